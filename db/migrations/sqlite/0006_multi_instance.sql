CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	`expire` integer
);
--> statement-breakpoint
CREATE INDEX `rate_limits_expire_idx` ON `rate_limits` (`expire`);--> statement-breakpoint
CREATE TABLE `revocation_feed` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`session_id` text,
	`user_id` text,
	`role` text
);
--> statement-breakpoint
CREATE INDEX `revocation_feed_at_idx` ON `revocation_feed` (`at`);