//! Enum values and their labels, in the order the UI lists them.
import type {
  Role,
  TicketCategory,
  TicketChannel,
  TicketPriority,
  TicketSort,
  TicketStatus,
  TicketViewId,
} from './types';

export const TICKET_STATUSES: readonly TicketStatus[] = [
  'new',
  'open',
  'pending',
  'replied',
  'closed',
];
export const TICKET_PRIORITIES: readonly TicketPriority[] = ['low', 'medium', 'high', 'urgent'];
export const TICKET_CATEGORIES: readonly TicketCategory[] = [
  'bug',
  'feature_request',
  'billing',
  'general',
  'other',
];
export const TICKET_CHANNELS: readonly TicketChannel[] = ['web', 'email', 'chat', 'phone', 'api'];
export const ROLES: readonly Role[] = ['admin', 'agent'];
export const TICKET_VIEWS: readonly TicketViewId[] = [
  'my_open',
  'unassigned',
  'urgent_high',
  'all_open',
  'replied',
  'closed',
];
export const TICKET_SORTS: readonly TicketSort[] = [
  'created',
  'priority',
  'last_activity',
  'oldest_waiting',
  'relevance',
];

const LABELS: Record<string, string> = {
  new: 'New',
  open: 'Open',
  pending: 'Pending',
  replied: 'Replied',
  closed: 'Closed',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  urgent: 'Urgent',
  bug: 'Bug',
  feature_request: 'Feature request',
  billing: 'Billing',
  general: 'General',
  other: 'Other',
  web: 'Web',
  email: 'Email',
  chat: 'Chat',
  phone: 'Phone',
  api: 'API',
  admin: 'Admin',
  agent: 'Agent',
  created: 'Newest first',
  priority: 'Priority',
  last_activity: 'Last activity',
  oldest_waiting: 'Oldest waiting',
  relevance: 'Best match',
};

/** A human label for an enum value; unknown values are shown as they are. */
export function label(value: string | null | undefined, fallback = '—'): string {
  if (value === null || value === undefined || value === '') return fallback;
  return LABELS[value] ?? value;
}

export const STATUS_COLORS: Record<TicketStatus, string> = {
  new: 'blue',
  open: 'cyan',
  pending: 'yellow',
  replied: 'green',
  closed: 'gray',
};

export const PRIORITY_COLORS: Record<TicketPriority, string> = {
  low: 'gray',
  medium: 'blue',
  high: 'orange',
  urgent: 'red',
};
