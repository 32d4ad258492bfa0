import { Module } from "@nestjs/common";
import { CrfController } from "./crf.controller.js";

@Module({ controllers: [CrfController] })
export class CrfModule {}
