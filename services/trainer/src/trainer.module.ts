import { Module } from "@nestjs/common";
import { TrainerController } from "./trainer.controller.js";

@Module({ controllers: [TrainerController] })
export class TrainerModule {}
