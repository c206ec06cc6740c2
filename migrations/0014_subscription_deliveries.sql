CREATE TABLE "subscription_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"subscription_id" integer NOT NULL,
	"job_id" integer,
	"idempotency_key" varchar(255) NOT NULL,
	"trigger_type" varchar(20) NOT NULL,
	"scheduled_at" timestamp(6) with time zone,
	"target_type" varchar(10) NOT NULL,
	"target_value" text NOT NULL,
	"exported_asset_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"content_snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"recipient_results" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" varchar(20) NOT NULL,
	"error" jsonb,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"last_updated_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp(6) with time zone
);
--> statement-breakpoint
ALTER TABLE "subscription_deliveries" ADD CONSTRAINT "subscription_deliveries_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_deliveries" ADD CONSTRAINT "subscription_deliveries_subscription_id_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "subscription_deliveries_idempotency" ON "subscription_deliveries" USING btree ("subscription_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "subscription_deliveries_list" ON "subscription_deliveries" USING btree ("subscription_id","created_at");--> statement-breakpoint
CREATE INDEX "subscription_deliveries_team" ON "subscription_deliveries" USING btree ("team_id");