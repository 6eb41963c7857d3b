//! Human words for audit events: what happened, in a short sentence.
import { label } from '@/lib/api/enums';
import type { AuditEvent, AuditKind } from '@/lib/api/types';

/** Every kind, in the order the filter lists them, with its name in the filter. */
export const AUDIT_KINDS: readonly { value: AuditKind; label: string }[] = [
  { value: 'signup', label: 'Workspace created' },
  { value: 'login_succeeded', label: 'Signed in' },
  { value: 'login_failed', label: 'Failed sign-in' },
  { value: 'logout', label: 'Signed out' },
  { value: 'logout_all', label: 'Signed out everywhere' },
  { value: 'password_changed', label: 'Password changed' },
  { value: 'password_reset_by_admin', label: 'Password reset by an admin' },
  { value: 'user_created', label: 'User added' },
  { value: 'role_changed', label: 'Role changed' },
  { value: 'user_deactivated', label: 'User deactivated' },
  { value: 'user_reactivated', label: 'User reactivated' },
  { value: 'settings_updated', label: 'Settings changed' },
  { value: 'inbound_token_rotated', label: 'Inbound email address rotated' },
  { value: 'email_settings_updated', label: 'Email settings changed' },
];

const FAILURE_REASONS: Record<string, string> = {
  wrong_password: 'wrong password',
  user_deactivated: 'user is deactivated',
};

const SETTINGS_FIELDS: Record<string, string> = {
  name: 'name',
  policies: 'reply policies',
  'auto_triage.mode': 'auto-triage mode',
  'auto_triage.thresholds': 'auto-triage thresholds',
};

const EMAIL_FIELDS: Record<string, string> = {
  enabled: 'on/off switch',
  imap: 'incoming server',
  imap_password: 'incoming password',
  smtp: 'outgoing server',
  smtp_password: 'outgoing password',
  sender: 'sender',
};

/** What happened, e.g. "Changed the role from Agent to Admin". */
export function describeEvent(event: AuditEvent): string {
  const detail = event.detail;
  switch (event.kind) {
    case 'signup':
      return detail.workspace_name
        ? `Created the workspace “${detail.workspace_name}”`
        : 'Created the workspace';
    case 'login_succeeded':
      return 'Signed in';
    case 'login_failed': {
      const reason = detail.reason ? FAILURE_REASONS[detail.reason] : undefined;
      return reason ? `Failed to sign in (${reason})` : 'Failed to sign in';
    }
    case 'logout':
      return 'Signed out';
    case 'logout_all': {
      const n = Number(detail.sessions_ended);
      return Number.isFinite(n)
        ? `Signed out everywhere (${n} session${n === 1 ? '' : 's'} ended)`
        : 'Signed out everywhere';
    }
    case 'password_changed':
      return 'Changed their password';
    case 'password_reset_by_admin':
      return 'Reset the password (temporary password issued)';
    case 'user_created':
      return detail.to_role ? `Added the user as ${label(detail.to_role)}` : 'Added the user';
    case 'role_changed':
      return `Changed the role from ${label(detail.from_role, '?')} to ${label(detail.to_role, '?')}`;
    case 'user_deactivated':
      return 'Deactivated the user';
    case 'user_reactivated':
      return 'Reactivated the user';
    case 'settings_updated': {
      const fields = (detail.fields ?? '')
        .split(',')
        .filter(Boolean)
        .map((f) => SETTINGS_FIELDS[f] ?? f);
      const summary = fields.length
        ? `Changed the workspace ${fields.join(' and ')}`
        : 'Changed settings';
      // The new auto-triage settings, e.g. `mode=apply category>=0.80 …`.
      return detail.auto_triage ? `${summary} (${detail.auto_triage})` : summary;
    }
    case 'inbound_token_rotated':
      return 'Rotated the inbound email address (the old one stopped working)';
    case 'email_settings_updated': {
      const fields = (detail.fields ?? '').split(',').filter(Boolean);
      if (fields.includes('created')) return 'Set up the support mailbox';
      const named = fields.map((f) => EMAIL_FIELDS[f] ?? f);
      return named.length
        ? `Changed the support mailbox: ${named.join(', ')}`
        : 'Changed the support mailbox';
    }
    default:
      return event.kind;
  }
}
