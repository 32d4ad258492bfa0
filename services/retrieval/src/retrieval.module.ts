import { Module } from "@nestjs/common";
import { RetrievalController } from "./retrieval.controller.js";

@Module({ controllers: [RetrievalController] })
export class RetrievalModule {}
