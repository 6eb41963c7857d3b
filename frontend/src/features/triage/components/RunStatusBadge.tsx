import { Badge } from '@mantine/core';
import { label } from '@/lib/api/enums';
import type { WorkflowRunStatus } from '@/lib/api/types';

const COLORS: Record<WorkflowRunStatus, string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'teal',
  failed: 'red',
};

const LABELS: Record<WorkflowRunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

export function RunStatusBadge({ status }: { status: WorkflowRunStatus }) {
  return (
    <Badge color={COLORS[status] ?? 'gray'} variant="light">
      {LABELS[status] ?? label(status)}
    </Badge>
  );
}
