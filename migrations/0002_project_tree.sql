CREATE TABLE "file_system" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"project_id" integer NOT NULL,
	"path" text NOT NULL,
	"depth" integer,
	"type" varchar(100) DEFAULT '' NOT NULL,
	"ref" varchar(100),
	"href" text,
	"shortcut" boolean DEFAULT false,
	"meta" jsonb DEFAULT '{}'::jsonb,
	"surface" varchar(100) DEFAULT 'web' NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer
);
--> statement-breakpoint
CREATE TABLE "file_system_home_folders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"folder_id" uuid,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "file_system_shortcuts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"path" text NOT NULL,
	"type" varchar(100) DEFAULT '' NOT NULL,
	"ref" varchar(100),
	"href" text,
	"order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "file_system_view_logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"type" varchar(150) NOT NULL,
	"ref" varchar(200) NOT NULL,
	"viewed_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"surface" varchar(100) DEFAULT 'web' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "persisted_folders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"type" varchar(32) NOT NULL,
	"protocol" varchar(64) DEFAULT 'products://' NOT NULL,
	"path" text DEFAULT '' NOT NULL,
	"surface" varchar(100) DEFAULT 'web' NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_system" ADD CONSTRAINT "file_system_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system" ADD CONSTRAINT "file_system_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system" ADD CONSTRAINT "file_system_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_home_folders" ADD CONSTRAINT "file_system_home_folders_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_home_folders" ADD CONSTRAINT "file_system_home_folders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_home_folders" ADD CONSTRAINT "file_system_home_folders_folder_id_file_system_id_fk" FOREIGN KEY ("folder_id") REFERENCES "public"."file_system"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_shortcuts" ADD CONSTRAINT "file_system_shortcuts_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_shortcuts" ADD CONSTRAINT "file_system_shortcuts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_view_logs" ADD CONSTRAINT "file_system_view_logs_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_system_view_logs" ADD CONSTRAINT "file_system_view_logs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "persisted_folders" ADD CONSTRAINT "persisted_folders_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "persisted_folders" ADD CONSTRAINT "persisted_folders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "file_system_children" ON "file_system" USING btree ("project_id","depth","path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "file_system_path" ON "file_system" USING btree ("project_id","path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "file_system_lower_path" ON "file_system" USING btree ("project_id",lower("path"));--> statement-breakpoint
CREATE INDEX "file_system_type_ref" ON "file_system" USING btree ("project_id","type","ref");--> statement-breakpoint
CREATE INDEX "file_system_team" ON "file_system" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "file_system_created_by" ON "file_system" USING btree ("created_by_id");--> statement-breakpoint
CREATE UNIQUE INDEX "file_system_home_folders_team_user" ON "file_system_home_folders" USING btree ("team_id","user_id");--> statement-breakpoint
CREATE INDEX "file_system_home_folders_user" ON "file_system_home_folders" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "file_system_home_folders_folder" ON "file_system_home_folders" USING btree ("folder_id");--> statement-breakpoint
CREATE INDEX "file_system_shortcuts_owner" ON "file_system_shortcuts" USING btree ("team_id","user_id");--> statement-breakpoint
CREATE INDEX "file_system_shortcuts_user" ON "file_system_shortcuts" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "file_system_view_logs_unique" ON "file_system_view_logs" USING btree ("team_id","user_id","type","ref");--> statement-breakpoint
CREATE INDEX "file_system_view_logs_recent" ON "file_system_view_logs" USING btree ("team_id","user_id","viewed_at");--> statement-breakpoint
CREATE INDEX "file_system_view_logs_object" ON "file_system_view_logs" USING btree ("team_id","type","ref");--> statement-breakpoint
CREATE INDEX "file_system_view_logs_user" ON "file_system_view_logs" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "persisted_folders_team_user_type" ON "persisted_folders" USING btree ("team_id","user_id","type","surface");--> statement-breakpoint
CREATE INDEX "persisted_folders_user" ON "persisted_folders" USING btree ("user_id");