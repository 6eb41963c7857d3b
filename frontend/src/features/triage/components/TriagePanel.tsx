import {
  Alert,
  Anchor,
  Button,
  Divider,
  Group,
  Modal,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { IconHistory, IconRefresh, IconSparkles } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { label, TICKET_CATEGORIES, TICKET_PRIORITIES } from '@/lib/api/enums';
import { ApiError, errorMessage } from '@/lib/api/errors';
import { queryKeys } from '@/lib/api/keys';
import { useUpdateTicket } from '@/lib/api/tickets';
import type { TeamMember, TicketDetail, User } from '@/lib/api/types';
import { formatDateTime } from '@/lib/format';
import { isActive, useRun, useStartTriage } from '../api/triage';
import { DraftEditor } from './DraftEditor';
import { SuggestionRow } from './SuggestionRow';
import { type DecisionField, nameOf, suggestionsFrom, usersFromSnapshots } from './steps';
import { TriageProgress } from './TriageProgress';

const NONE = '__none__';

/** The AI triage section of a ticket: run it, follow it, review and override what it suggests. */
export function TriagePanel({
  detail,
  users,
}: {
  detail: TicketDetail;
  users: readonly TeamMember[];
}) {
  const { ticket, replies } = detail;
  const client = useQueryClient();
  const start = useStartTriage(ticket.id);
  const update = useUpdateTicket(ticket.id);
  const [startedId, setRunId] = useState<string | null>(null);
  // Follow the newest run: the one started here, or a newer one the ticket reports (another
  // tab). Run ids are UUIDv7, so their text order is their creation order.
  const latestId = detail.latest_run?.id ?? null;
  const runId = startedId && (!latestId || startedId > latestId) ? startedId : latestId;

  const runQuery = useRun(runId);
  const run = runQuery.data?.workflow_run ?? null;
  const steps = runQuery.data?.steps ?? [];
  const active = isActive(run?.status) || start.isPending;

  // When a run finishes, the ticket has new fields and a draft: fetch it again.
  const lastStatus = useRef(run?.status);
  useEffect(() => {
    if (isActive(lastStatus.current) && run && !isActive(run.status)) {
      void client.invalidateQueries({ queryKey: queryKeys.tickets });
      void client.invalidateQueries({ queryKey: queryKeys.ticketRuns(ticket.id) });
    }
    lastStatus.current = run?.status;
  }, [run, client, ticket.id]);

  const startRun = () =>
    start.mutate(undefined, {
      onSuccess: (started) => setRunId(started.id),
      onError: (error) => {
        // A run is already going (double click, another tab): follow it instead.
        if (error instanceof ApiError && error.activeRunId) setRunId(error.activeRunId);
      },
    });

  const draft = [...replies].reverse().find((r) => r.author_type === 'ai' && r.draft) ?? null;
  // A new run replaces the unsent AI draft: ask first when a person edited it (saved or not).
  const [draftDirty, setDraftDirty] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const edited = !!draft && (draftDirty || draft.updated_at !== draft.created_at);
  const trigger = () => (edited ? setConfirming(true) : startRun());
  const suggestions = run?.status === 'succeeded' ? suggestionsFrom(steps) : null;
  // Decisions are shown for runs queued on arrival; a person's run applies every result.
  const auto = !!run && run.trigger !== 'manual';
  const decisionOf = (field: DecisionField) =>
    auto ? (suggestions?.decisions[field] ?? null) : null;
  // A suggestion left as a suggestion, whose value the ticket does not have yet.
  const pending = (field: DecisionField, current?: string | null, value?: string | null) =>
    decisionOf(field)?.outcome === 'suggested' && value != null && (current ?? null) !== value;
  // A field still empty after a suggest-only decision was not overridden: it awaits a person.
  const overridden = (field: DecisionField, current?: string | null, value?: string | null) =>
    (current ?? null) !== (value ?? null) &&
    !(decisionOf(field)?.outcome === 'suggested' && current == null);
  const people: Pick<User, 'id' | 'name'>[] = users.length ? [...users] : usersFromSnapshots(steps);
  const startError =
    start.error && !(start.error instanceof ApiError && start.error.activeRunId)
      ? start.error
      : null;

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="triage-title">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <IconSparkles size={20} color="var(--mantine-color-violet-6)" aria-hidden="true" />
            <Title order={2} size="h4" id="triage-title">
              AI triage
            </Title>
          </Group>
          <Button
            leftSection={<IconSparkles size={16} />}
            color="violet"
            onClick={trigger}
            loading={active}
            loaderProps={{ type: 'dots' }}
            disabled={active}
          >
            {run ? 'Run AI Triage again' : 'Run AI Triage'}
          </Button>
        </Group>

        {!run && !active && !runQuery.isFetching && (
          <Text size="sm" c="dimmed">
            Let the AI classify this ticket, set its priority, suggest who should handle it and
            draft a reply. Nothing is sent to the customer without you.
          </Text>
        )}
        {startError && (
          <Alert color="red" role="alert" title="Could not start triage">
            {errorMessage(startError)}
          </Alert>
        )}
        {runQuery.isError && (
          <Alert color="red" role="alert" title="Could not load the triage run">
            <Group justify="space-between">
              <Text size="sm">{errorMessage(runQuery.error)}</Text>
              <Button size="xs" variant="white" onClick={() => void runQuery.refetch()}>
                Retry
              </Button>
            </Group>
          </Alert>
        )}

        {run && (
          <Stack gap="xs">
            <Text size="xs" c="dimmed" role="status" aria-live="polite">
              {run.status === 'queued' && 'Waiting for a worker…'}
              {run.status === 'running' && 'Triage in progress…'}
              {run.status === 'succeeded' &&
                `Triaged ${formatDateTime(run.finished_at ?? run.started_at)}`}
              {run.status === 'failed' &&
                `Failed ${formatDateTime(run.finished_at ?? run.started_at)}`}
            </Text>
            {(active || run.status === 'failed') && <TriageProgress run={run} steps={steps} />}
          </Stack>
        )}

        {run?.status === 'failed' && (
          <Alert color="red" title="Triage failed" role="alert" data-testid="triage-failed">
            <Stack gap="xs">
              <Text size="sm">{run.error_message ?? 'The run failed without a message.'}</Text>
              <Text size="xs">The ticket was left unchanged.</Text>
              <Group>
                <Button
                  size="xs"
                  color="red"
                  variant="white"
                  leftSection={<IconRefresh size={14} />}
                  onClick={trigger}
                  disabled={active}
                >
                  Retry triage
                </Button>
              </Group>
            </Stack>
          </Alert>
        )}

        {suggestions && (
          <Stack gap="md">
            {suggestions.category && (
              <SuggestionRow
                title="Category"
                suggested={label(suggestions.category.value)}
                reason={suggestions.category.reason}
                confidence={suggestions.category.confidence}
                decision={decisionOf('category')}
                overridden={overridden('category', ticket.category, suggestions.category.value)}
                applying={update.isPending}
                onApply={
                  pending('category', ticket.category, suggestions.category.value)
                    ? () =>
                        update.mutate({
                          category: suggestions.category?.value as NonNullable<
                            typeof ticket.category
                          >,
                        })
                    : undefined
                }
              >
                <Select
                  aria-label="Category"
                  data={[
                    { value: NONE, label: 'Not set' },
                    ...TICKET_CATEGORIES.map((value) => ({ value, label: label(value) })),
                  ]}
                  value={ticket.category ?? NONE}
                  allowDeselect={false}
                  disabled={update.isPending}
                  onChange={(value) =>
                    value &&
                    update.mutate({
                      category:
                        value === NONE ? null : (value as NonNullable<typeof ticket.category>),
                    })
                  }
                />
              </SuggestionRow>
            )}
            {suggestions.priority && (
              <SuggestionRow
                title="Priority"
                suggested={label(suggestions.priority.value)}
                reason={suggestions.priority.reason}
                confidence={suggestions.priority.confidence}
                decision={decisionOf('priority')}
                overridden={overridden('priority', ticket.priority, suggestions.priority.value)}
                applying={update.isPending}
                onApply={
                  pending('priority', ticket.priority, suggestions.priority.value)
                    ? () =>
                        update.mutate({
                          priority: suggestions.priority?.value as NonNullable<
                            typeof ticket.priority
                          >,
                        })
                    : undefined
                }
              >
                <SegmentedControl
                  aria-label="Priority"
                  fullWidth
                  size="xs"
                  data={TICKET_PRIORITIES.map((value) => ({ value, label: label(value) }))}
                  value={ticket.priority ?? ''}
                  disabled={update.isPending}
                  onChange={(value) =>
                    update.mutate({ priority: value as NonNullable<typeof ticket.priority> })
                  }
                />
              </SuggestionRow>
            )}
            {suggestions.assignee && (
              <SuggestionRow
                title="Assignee"
                suggested={nameOf(people, suggestions.assignee.value)}
                reason={suggestions.assignee.reason}
                confidence={suggestions.assignee.confidence}
                decision={decisionOf('assignee')}
                overridden={overridden('assignee', ticket.assignee_id, suggestions.assignee.value)}
                applying={update.isPending}
                onApply={
                  pending('assignee', ticket.assignee_id, suggestions.assignee.value)
                    ? () => update.mutate({ assignee_id: suggestions.assignee?.value ?? null })
                    : undefined
                }
              >
                <Select
                  aria-label="Assignee"
                  data={[
                    { value: NONE, label: 'Unassigned' },
                    ...people.map((person) => ({ value: person.id, label: person.name })),
                    ...(ticket.assignee_id && !people.some((p) => p.id === ticket.assignee_id)
                      ? [{ value: ticket.assignee_id, label: 'Another user' }]
                      : []),
                  ]}
                  value={ticket.assignee_id ?? NONE}
                  allowDeselect={false}
                  searchable
                  disabled={update.isPending}
                  onChange={(value) =>
                    value && update.mutate({ assignee_id: value === NONE ? null : value })
                  }
                />
              </SuggestionRow>
            )}
            {update.isError && (
              <Alert color="red" role="alert">
                Could not save the override: {errorMessage(update.error)}
              </Alert>
            )}
            <Divider />
            {draft ? (
              <DraftEditor
                key={draft.id}
                ticketId={ticket.id}
                draft={draft}
                flags={suggestions.draft?.flags ?? []}
                onDirtyChange={setDraftDirty}
              />
            ) : (
              <Text size="sm" c="dimmed" data-testid="no-draft">
                No unsent AI draft: it was sent or removed. Run triage again for a new one.
              </Text>
            )}
          </Stack>
        )}

        <Anchor
          component={Link}
          to={`/tickets/${ticket.id}/workflows`}
          size="sm"
          style={{ display: 'inline-flex', alignItems: 'center', gap: 4 }}
        >
          <IconHistory size={16} aria-hidden="true" /> View Workflow History
        </Anchor>
      </Stack>
      <Modal
        opened={confirming}
        onClose={() => setConfirming(false)}
        title="Replace your edited draft?"
      >
        <Stack gap="md">
          <Text size="sm">
            Running triage again writes a new AI draft in place of the one you edited. Your edits
            are not kept (the original AI text stays in the run history).
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep my draft
            </Button>
            <Button
              color="violet"
              onClick={() => {
                setConfirming(false);
                startRun();
              }}
            >
              Run again and replace it
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
