import { Badge } from '@mantine/core';
import { label, PRIORITY_COLORS, STATUS_COLORS } from '@/lib/api/enums';
import type { TicketPriority, TicketStatus } from '@/lib/api/types';

export function StatusBadge({ status }: { status: TicketStatus }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light">
      {label(status)}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: TicketPriority | null | undefined }) {
  if (!priority)
    return (
      <Badge color="gray" variant="outline">
        Unset
      </Badge>
    );
  return (
    <Badge color={PRIORITY_COLORS[priority] ?? 'gray'} variant="filled">
      {label(priority)}
    </Badge>
  );
}
