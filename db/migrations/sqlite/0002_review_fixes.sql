ALTER TABLE `refresh_tokens` ADD `grace_uses` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `rotation_key` text;