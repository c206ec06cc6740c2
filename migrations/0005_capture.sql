CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"uuid" uuid NOT NULL,
	"event" varchar(400) NOT NULL,
	"distinct_id" varchar(200) NOT NULL,
	"timestamp" timestamp(6) with time zone NOT NULL,
	"properties" jsonb NOT NULL,
	"session_id" varchar(200),
	"window_id" varchar(200),
	"current_url" text,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "heatmap_points" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"event_uuid" uuid NOT NULL,
	"timestamp" timestamp(6) with time zone NOT NULL,
	"session_id" varchar(200),
	"distinct_id" varchar(200) NOT NULL,
	"url" text NOT NULL,
	"type" varchar(20) NOT NULL,
	"x" integer NOT NULL,
	"y" integer NOT NULL,
	"target_fixed" boolean NOT NULL,
	"viewport_width" integer,
	"viewport_height" integer
);
--> statement-breakpoint
CREATE TABLE "person_distinct_ids" (
	"team_id" integer NOT NULL,
	"distinct_id" varchar(200) NOT NULL,
	"person_id" integer NOT NULL,
	CONSTRAINT "person_distinct_ids_team_id_distinct_id_pk" PRIMARY KEY("team_id","distinct_id")
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" serial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"team_id" integer NOT NULL,
	"properties" jsonb NOT NULL,
	"is_identified" boolean DEFAULT false NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "persons_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "raw_sessions" (
	"team_id" integer NOT NULL,
	"session_id" varchar(200) NOT NULL,
	"distinct_id" varchar(200) NOT NULL,
	"start_timestamp" timestamp(6) with time zone NOT NULL,
	"end_timestamp" timestamp(6) with time zone NOT NULL,
	"entry_url" varchar(4096),
	"end_url" varchar(4096),
	"entry_referring_domain" varchar(400),
	"entry_attribution" jsonb NOT NULL,
	"pageview_count" integer DEFAULT 0 NOT NULL,
	"autocapture_count" integer DEFAULT 0 NOT NULL,
	"screen_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "raw_sessions_team_id_session_id_pk" PRIMARY KEY("team_id","session_id")
);
--> statement-breakpoint
CREATE TABLE "recording_blocks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"session_id" varchar(200) NOT NULL,
	"window_id" varchar(200) NOT NULL,
	"uuid" uuid NOT NULL,
	"first_timestamp" timestamp(6) with time zone NOT NULL,
	"last_timestamp" timestamp(6) with time zone NOT NULL,
	"first_url" text,
	"event_count" integer NOT NULL,
	"size" integer NOT NULL,
	"content" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recording_console_logs" (
	"team_id" integer NOT NULL,
	"session_id" varchar(200) NOT NULL,
	"level" varchar(10) NOT NULL,
	"message" text NOT NULL,
	"message_hash" varchar(32) NOT NULL,
	CONSTRAINT "recording_console_logs_team_id_session_id_level_message_hash_pk" PRIMARY KEY("team_id","session_id","level","message_hash")
);
--> statement-breakpoint
CREATE TABLE "session_recordings" (
	"team_id" integer NOT NULL,
	"session_id" varchar(200) NOT NULL,
	"distinct_id" varchar(400) NOT NULL,
	"start_time" timestamp(6) with time zone NOT NULL,
	"end_time" timestamp(6) with time zone NOT NULL,
	"active_milliseconds" integer DEFAULT 0 NOT NULL,
	"click_count" integer DEFAULT 0 NOT NULL,
	"keypress_count" integer DEFAULT 0 NOT NULL,
	"mouse_activity_count" integer DEFAULT 0 NOT NULL,
	"console_log_count" integer DEFAULT 0 NOT NULL,
	"console_warn_count" integer DEFAULT 0 NOT NULL,
	"console_error_count" integer DEFAULT 0 NOT NULL,
	"first_url" text,
	"urls" jsonb NOT NULL,
	"size" integer DEFAULT 0 NOT NULL,
	"event_count" integer DEFAULT 0 NOT NULL,
	"message_count" integer DEFAULT 0 NOT NULL,
	"block_count" integer DEFAULT 0 NOT NULL,
	"snapshot_source" varchar(40) NOT NULL,
	"snapshot_library" varchar(200) NOT NULL,
	"retention_period_days" integer,
	"last_ingested_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_recordings_team_id_session_id_pk" PRIMARY KEY("team_id","session_id")
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "heatmap_points" ADD CONSTRAINT "heatmap_points_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_distinct_ids" ADD CONSTRAINT "person_distinct_ids_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_distinct_ids" ADD CONSTRAINT "person_distinct_ids_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "persons" ADD CONSTRAINT "persons_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_sessions" ADD CONSTRAINT "raw_sessions_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recording_blocks" ADD CONSTRAINT "recording_blocks_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recording_console_logs" ADD CONSTRAINT "recording_console_logs_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_recordings" ADD CONSTRAINT "session_recordings_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "events_team_uuid" ON "events" USING btree ("team_id","uuid");--> statement-breakpoint
CREATE INDEX "events_team_timestamp" ON "events" USING btree ("team_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_team_session" ON "events" USING btree ("team_id","session_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_team_event" ON "events" USING btree ("team_id","event","timestamp");--> statement-breakpoint
CREATE INDEX "heatmap_points_team_type_time" ON "heatmap_points" USING btree ("team_id","type","timestamp");--> statement-breakpoint
CREATE INDEX "person_distinct_ids_person" ON "person_distinct_ids" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "persons_team" ON "persons" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "raw_sessions_team_start" ON "raw_sessions" USING btree ("team_id","start_timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "recording_blocks_team_uuid" ON "recording_blocks" USING btree ("team_id","uuid");--> statement-breakpoint
CREATE INDEX "recording_blocks_session" ON "recording_blocks" USING btree ("team_id","session_id","first_timestamp");--> statement-breakpoint
CREATE INDEX "session_recordings_team_start" ON "session_recordings" USING btree ("team_id","start_time");