import { Module } from "@nestjs/common";
import { ExporterController } from "./exporter.controller.js";

@Module({ controllers: [ExporterController] })
export class ExporterModule {}
