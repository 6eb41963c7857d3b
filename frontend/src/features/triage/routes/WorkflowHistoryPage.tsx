import { Anchor, Breadcrumbs, Grid, NavLink, Paper, Stack, Text, Title } from '@mantine/core';
import { Link, Navigate, useParams } from 'react-router';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { useTicket } from '@/lib/api/tickets';
import { useDirectory } from '@/lib/api/users';
import { formatDateTime } from '@/lib/format';
import { useRun, useTicketRuns } from '../api/triage';
import { RunStatusBadge } from '../components/RunStatusBadge';
import { RunView } from '../components/RunView';

export function WorkflowHistoryPage() {
  const { id = '', runId } = useParams();
  const ticket = useTicket(id);
  const runs = useTicketRuns(id);
  const directory = useDirectory();
  const selected = runId ?? null;
  const run = useRun(selected);

  if (runs.isPending || ticket.isPending) return <PageLoader label="Loading workflow history…" />;
  if (ticket.isError)
    return <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />;
  if (runs.isError) return <ErrorState error={runs.error} onRetry={() => void runs.refetch()} />;

  // Open the newest run by default.
  const newest = runs.data[0];
  if (!selected && newest) return <Navigate to={`/tickets/${id}/workflows/${newest.id}`} replace />;

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/tickets">
          Tickets
        </Anchor>
        <Anchor component={Link} to={`/tickets/${id}`} lineClamp={1}>
          {ticket.data.ticket.subject}
        </Anchor>
        <Text size="sm" c="dimmed">
          Workflow history
        </Text>
      </Breadcrumbs>
      <Title order={1} size="h2">
        Workflow history
      </Title>
      {runs.data.length === 0 ? (
        <Paper withBorder p="xl" radius="md">
          <Text ta="center" c="dimmed">
            AI triage has not run on this ticket yet.{' '}
            <Anchor component={Link} to={`/tickets/${id}`}>
              Back to the ticket
            </Anchor>
          </Text>
        </Paper>
      ) : (
        <Grid gap="md">
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Paper withBorder radius="md" p="xs" component="nav" aria-label="Runs">
              <Text size="xs" c="dimmed" tt="uppercase" fw={600} px="xs" py={4}>
                Runs ({runs.data.length})
              </Text>
              {runs.data.map((item) => (
                <NavLink
                  key={item.id}
                  component={Link}
                  to={`/tickets/${id}/workflows/${item.id}`}
                  active={item.id === selected}
                  label={formatDateTime(item.started_at, true)}
                  description={item.error_message ?? item.workflow_type}
                  rightSection={<RunStatusBadge status={item.status} />}
                  aria-current={item.id === selected ? 'page' : undefined}
                  data-testid="run-item"
                />
              ))}
            </Paper>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            {run.isPending ? (
              <PageLoader label="Loading run…" />
            ) : run.isError ? (
              <ErrorState error={run.error} onRetry={() => void run.refetch()} />
            ) : (
              <RunView detail={run.data} users={directory.data ?? []} />
            )}
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}
