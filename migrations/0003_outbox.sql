-- The sweeper deletes delivered mail by age; without this index it would scan
-- every delivered row each time it runs.
CREATE INDEX outbox_sent ON outbox (status, sent_at);
