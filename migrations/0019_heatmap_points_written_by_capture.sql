ALTER TABLE "heatmap_points" ALTER COLUMN "url_key" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "heatmap_points" ALTER COLUMN "grid_width" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "heatmap_points" ALTER COLUMN "packed" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "heatmap_points" DROP COLUMN "grid_x";--> statement-breakpoint
ALTER TABLE "heatmap_points" DROP COLUMN "grid_y";--> statement-breakpoint
ALTER TABLE "heatmap_points" DROP COLUMN "grid_height";