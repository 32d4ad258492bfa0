import { Module } from "@nestjs/common";
import { SimilarityController } from "./similarity.controller.js";

@Module({ controllers: [SimilarityController] })
export class SimilarityModule {}
