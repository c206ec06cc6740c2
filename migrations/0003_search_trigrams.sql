-- Trigram indexes for the project tree's free-text search; pg_trgm is a trusted extension (Postgres 13+) and PGlite loads it in db/client.ts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "file_system_search" ON "file_system" USING gin ("path" gin_trgm_ops,"type" gin_trgm_ops);
