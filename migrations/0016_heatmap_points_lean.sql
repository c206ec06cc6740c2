CREATE TABLE "heatmap_pages" (
	"team_id" integer NOT NULL,
	"url" text NOT NULL,
	"url_hash" uuid GENERATED ALWAYS AS (md5(url)::uuid) STORED NOT NULL,
	"url_key" uuid GENERATED ALWAYS AS (md5(rtrim(url, '/'))::uuid) STORED NOT NULL,
	"last_seen_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "heatmap_pages_pkey" PRIMARY KEY("team_id","url_hash")
);
--> statement-breakpoint
ALTER TABLE "heatmap_pages" ADD CONSTRAINT "heatmap_pages_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
DROP INDEX "heatmap_points_team_type_time";
--> statement-breakpoint
DROP INDEX "heatmap_points_team_type_page";
--> statement-breakpoint
-- One rewrite of the table for all the changes.
ALTER TABLE "heatmap_points" DROP COLUMN "id",
  ADD COLUMN "grid_x" integer GENERATED ALWAYS AS ((case when x < 0 then (x::int8 - 8) / 16 else (x::int8 + 8) / 16 end)::int) STORED NOT NULL,
  ADD COLUMN "grid_y" integer GENERATED ALWAYS AS ((case when y < 0 then (y::int8 - 8) / 16 else (y::int8 + 8) / 16 end)::int) STORED NOT NULL,
  ADD COLUMN "grid_width" integer GENERATED ALWAYS AS ((case when viewport_width < 0 then (viewport_width::int8 - 8) / 16 else (viewport_width::int8 + 8) / 16 end)::int) STORED,
  ADD COLUMN "grid_height" integer GENERATED ALWAYS AS ((case when viewport_height < 0 then (viewport_height::int8 - 8) / 16 else (viewport_height::int8 + 8) / 16 end)::int) STORED;
--> statement-breakpoint
CREATE INDEX "heatmap_points_time" ON "heatmap_points" USING brin ("timestamp");
--> statement-breakpoint
CREATE INDEX "heatmap_points_team_type_page" ON "heatmap_points" USING btree ("team_id","type","url_key","timestamp","grid_x","grid_y","grid_width","grid_height","target_fixed","distinct_id");
--> statement-breakpoint
-- The pages of the points stored so far.
INSERT INTO "heatmap_pages" ("team_id", "url") SELECT DISTINCT "team_id", "url" FROM "heatmap_points";
