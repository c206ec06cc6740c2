-- The team's event uuid becomes the key: its unique index turns into the primary key as it is, and the bigserial id
-- (whose index every insert paid for) goes.
ALTER TABLE "events" DROP CONSTRAINT "events_pkey";--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "id";--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_pkey" PRIMARY KEY USING INDEX "events_team_uuid";
