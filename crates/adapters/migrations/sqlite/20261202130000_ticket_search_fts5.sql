-- Ticket search moves from the hand-written keyword index (`ticket_keywords`, ~40 rows per
-- ticket) to an FTS5 full-text index with one document per ticket (rowid = tickets.seq).
--
-- Columns: `tenant` holds one token, 't' + the tenant id in hex, so every search MATCHes it and
-- FTS5 intersects the tenant's doclist with the words' doclists (tenant confinement happens in
-- the index, not as a filter over every tenant's matches). `replies` is the text of the
-- ticket's sent messages: customer and agent replies and internal notes (agents may search
-- their notes; the list is never shown to customers). Unsent AI drafts are left out. Ticket
-- numbers are not words of the document: `#1042` or `1042` is a number filter (`tickets.number`),
-- and a number inside the text is found like any other word.
--
-- Contentless (`content=''`): the text is already in `tickets` and `ticket_replies`, so it is not
-- stored twice; `contentless_delete=1` lets a ticket's document be deleted and re-inserted when
-- its subject, customer or replies change. unicode61 without diacritic folding splits text on
-- the same boundaries as `opsflow_domain::search::tokens` (MongoDB's keyword arrays), so `q`
-- finds the same tickets on both stores. The 2- and 3-character prefix indexes keep short
-- prefix searches (`in`, `inv`) from walking every term that starts with them.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    tenant, subject, body, customer, replies,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

INSERT INTO ticket_search (rowid, tenant, subject, body, customer, replies)
SELECT t.seq,
       't' || lower(hex(t.tenant_id)),
       t.subject,
       t.body,
       t.customer_name || ' ' || t.customer_email,
       (SELECT group_concat(r.body, ' ') FROM ticket_replies AS r
        WHERE r.tenant_id = t.tenant_id AND r.ticket_id = t.id AND r.sent_at IS NOT NULL)
FROM tickets AS t;

DROP TABLE ticket_keywords;
