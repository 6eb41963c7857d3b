import { Badge } from '@mantine/core';

/**
 * Badges show their whole label: Mantine's default ellipsis cut "MEDIUM" and "PENDING" to
 * "MEDI…" in a tight table column. The column grows instead (the table scrolls if it must).
 */
const WHOLE = { root: { overflow: 'visible', flexShrink: 0 }, label: { overflow: 'visible' } };
import { label, PRIORITY_COLORS, STATUS_COLORS } from '@/lib/api/enums';
import type { TicketPriority, TicketStatus } from '@/lib/api/types';

export function StatusBadge({ status }: { status: TicketStatus }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light" styles={WHOLE}>
      {label(status)}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: TicketPriority | null | undefined }) {
  if (!priority)
    return (
      <Badge color="gray" variant="outline" styles={WHOLE}>
        Unset
      </Badge>
    );
  return (
    <Badge color={PRIORITY_COLORS[priority] ?? 'gray'} variant="filled" styles={WHOLE}>
      {label(priority)}
    </Badge>
  );
}
