CREATE TABLE `revocation_feed` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`session_id` text,
	`user_id` text,
	`role` text
);
--> statement-breakpoint
CREATE INDEX `revocation_feed_at_idx` ON `revocation_feed` (`at`);