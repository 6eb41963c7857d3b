import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '@/lib/api/types';
import { describeEvent } from './describe';

function settingsEvent(detail: Record<string, string>): AuditEvent {
  return {
    id: '0193a000-0000-7000-8000-0000000a0001',
    at: '2026-12-02T14:00:00Z',
    kind: 'settings_updated',
    actor_id: null,
    actor_email: null,
    target_user_id: null,
    target_email: null,
    ip: null,
    detail,
  } as AuditEvent;
}

describe('describeEvent', () => {
  it('names auto-triage changes with the new settings', () => {
    expect(
      describeEvent(
        settingsEvent({
          fields: 'auto_triage.mode,auto_triage.thresholds',
          auto_triage: 'mode=apply category>=0.70 priority>=0.75 assignee>=0.95',
        }),
      ),
    ).toBe(
      'Changed the workspace auto-triage mode and auto-triage thresholds (mode=apply category>=0.70 priority>=0.75 assignee>=0.95)',
    );
    expect(describeEvent(settingsEvent({ fields: 'policies' }))).toBe(
      'Changed the workspace reply policies',
    );
  });
});
