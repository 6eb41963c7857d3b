import { describe, expect, it } from 'vitest';
import type { Delivery } from './api/types';
import { deliveryLabel, replySavedNotice } from './delivery';

const queued: Delivery = {
  state: 'queued',
  attempts: 0,
  last_error: null,
  next_attempt_at: '2026-11-25T11:00:00Z',
  sent_at: null,
  note: null,
};

describe('replySavedNotice', () => {
  it('says "queued for email" only when an email was queued', () => {
    expect(replySavedNotice({ delivery: queued }).title).toBe('Reply queued for email');
    const web = replySavedNotice({ delivery: null });
    expect(web.title).toBe('Reply recorded');
    expect(web.message).toContain('nothing was emailed');
    const noMailbox = replySavedNotice({
      delivery: { ...queued, state: 'not_emailed', next_attempt_at: null },
    });
    expect(noMailbox.title).toBe('Reply recorded');
    expect(noMailbox.message).toContain('No mailbox is connected');
    expect(replySavedNotice({}).title).toBe('Reply recorded');
  });
});

describe('deliveryLabel', () => {
  it('names each state and when a retry is due', () => {
    expect(deliveryLabel(queued)).toBe('Email queued');
    expect(deliveryLabel({ ...queued, attempts: 1 })).toMatch(
      /^Email queued · next try 25 Nov 2026/,
    );
    expect(deliveryLabel({ ...queued, state: 'failed' })).toBe('Email failed');
    expect(deliveryLabel({ ...queued, state: 'sent', sent_at: '2026-11-25T11:01:00Z' })).toMatch(
      /^Emailed 25 Nov 2026/,
    );
  });
});
