CREATE TABLE "subscriptions" (
	"id" serial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"dashboard_id" integer,
	"insight_id" integer,
	"saved_heatmap_id" uuid,
	"recordings_query" jsonb,
	"prompt" text,
	"width" integer,
	"title" varchar(100),
	"target_type" varchar(10) NOT NULL,
	"target_value" text NOT NULL,
	"frequency" varchar(10) NOT NULL,
	"interval" integer DEFAULT 1 NOT NULL,
	"count" integer,
	"byweekday" text[],
	"bysetpos" integer,
	"start_date" timestamp(6) with time zone NOT NULL,
	"until_date" timestamp(6) with time zone,
	"timezone" varchar(64) DEFAULT 'UTC' NOT NULL,
	"next_delivery_date" timestamp(6) with time zone,
	"enabled" boolean DEFAULT true NOT NULL,
	"integration_id" integer,
	"dashboard_export_insights" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"summary_enabled" boolean DEFAULT false NOT NULL,
	"summary_prompt_guide" varchar(500) DEFAULT '' NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_saved_heatmap_id_saved_heatmaps_id_fk" FOREIGN KEY ("saved_heatmap_id") REFERENCES "public"."saved_heatmaps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "subscriptions_team_list" ON "subscriptions" USING btree ("team_id","deleted","created_at");--> statement-breakpoint
CREATE INDEX "subscriptions_created_by" ON "subscriptions" USING btree ("created_by_id");--> statement-breakpoint
CREATE INDEX "subscriptions_saved_heatmap" ON "subscriptions" USING btree ("saved_heatmap_id");--> statement-breakpoint
CREATE INDEX "subscriptions_due" ON "subscriptions" USING btree ("next_delivery_date") WHERE deleted = false and enabled = true;