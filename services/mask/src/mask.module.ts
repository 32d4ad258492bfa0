import { Module } from "@nestjs/common";
import { MaskController } from "./mask.controller.js";

@Module({ controllers: [MaskController] })
export class MaskModule {}
