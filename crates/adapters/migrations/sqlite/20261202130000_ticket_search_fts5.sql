-- Ticket search moves from the hand-written keyword index (`ticket_keywords`, ~40 rows per
-- ticket) to an FTS5 full-text index with one document per ticket (rowid = tickets.seq).
--
-- Tenant confinement is in the terms themselves: the store writes every word of a document as
-- `t` + the tenant id in hex + the word (`t0193...ab` `invoice` → one term), from the domain's
-- tokeniser (`opsflow_domain::search::tokens`, the one MongoDB's keyword arrays use), and a
-- search looks up `"t<tenant>invoi"*`. A prefix query then walks only the tenant's own terms of
-- the index, instead of expanding `invoi*` over every workspace's documents and intersecting the
-- result with a tenant term (that first design answered a search at 1M tickets in 636 ms p99).
--
-- `replies` is the text of the ticket's sent messages: customer and agent replies and internal
-- notes (agents may search their notes; the list is never shown to customers). Unsent AI drafts
-- are left out. Ticket numbers are not words of the document: `#1042` or `1042` is a number
-- filter (`tickets.number`), and a number inside the text is found like any other word.
--
-- Contentless (`content=''`): the text is already in `tickets` and `ticket_replies`, so it is not
-- stored twice; `contentless_delete=1` lets a ticket's document be deleted and re-inserted when
-- its subject, customer or replies change.
--
-- SQL cannot run the tokeniser, so this migration leaves the index empty and marks it for a
-- rebuild (`search_index.rebuilt = 0`); the store fills it from the tickets and their replies
-- when it opens the database, once.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    subject, body, customer, replies,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE search_index (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    rebuilt INTEGER NOT NULL
);
INSERT INTO search_index (id, rebuilt) VALUES (1, 0);

DROP TABLE ticket_keywords;
