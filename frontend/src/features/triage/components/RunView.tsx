import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconCode } from '@tabler/icons-react';
import type { RunDetail, TeamMember, User, WorkflowStep } from '@/lib/api/types';
import { formatDateTime, formatDuration } from '@/lib/format';
import { RunStatusBadge } from './RunStatusBadge';
import {
  GUARDRAIL_LABELS,
  inputSummary,
  outputSummary,
  reasonOf,
  sortSteps,
  stepLabel,
  stepsByAttempt,
  usersFromSnapshots,
} from './steps';

function Fact({ name, value }: { name: string; value: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {name}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
}

function tokens(step: WorkflowStep): string {
  const p = step.prompt_tokens;
  const c = step.completion_tokens;
  if (p == null && c == null) return '—';
  return `${p ?? 0} in / ${c ?? 0} out`;
}

function StepCard({
  step,
  index,
  users,
}: {
  step: WorkflowStep;
  index: number;
  users: readonly Pick<User, 'id' | 'name'>[];
}) {
  const [raw, { toggle }] = useDisclosure(false);
  const reason = reasonOf(step);
  return (
    <Paper withBorder p="md" radius="md" data-testid="run-step">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Badge variant="outline" color="gray" circle>
              {index + 1}
            </Badge>
            <Title order={3} size="h5">
              {stepLabel(step.step_type)}
            </Title>
            <Badge color={step.succeeded ? 'teal' : 'red'} variant="light">
              {step.succeeded ? 'Succeeded' : 'Failed'}
            </Badge>
          </Group>
          <Text size="xs" c="dimmed">
            {formatDateTime(step.created_at, true)}
          </Text>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Fact name="Input" value={inputSummary(step)} />
          <Fact name="Output" value={outputSummary(step, users)} />
        </SimpleGrid>
        {reason && <Fact name="Reason" value={reason} />}
        {step.error_message && step.succeeded && <Fact name="Note" value={step.error_message} />}
        {step.guardrail_flags?.length > 0 && (
          <Group gap="xs">
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              Guardrail flags
            </Text>
            {step.guardrail_flags.map((flag) => (
              <Badge key={flag} color="orange">
                {GUARDRAIL_LABELS[flag]?.title ?? flag}
              </Badge>
            ))}
          </Group>
        )}
        <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="xs">
          <Fact name="Model" value={step.model || '—'} />
          <Fact name="Provider" value={step.provider || '—'} />
          <Fact name="Latency" value={formatDuration(step.latency_ms)} />
          <Fact name="Tokens" value={tokens(step)} />
          <Fact name="Attempts" value={step.attempts ?? 1} />
        </SimpleGrid>
        {step.prompt_version && (
          <Text size="xs" c="dimmed">
            Prompt version {step.prompt_version}
          </Text>
        )}
        <Group>
          <Button
            size="xs"
            variant="subtle"
            leftSection={<IconCode size={14} />}
            onClick={toggle}
            aria-expanded={raw}
          >
            {raw ? 'Hide raw snapshots' : 'Show raw snapshots'}
          </Button>
        </Group>
        {raw && (
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
            <div>
              <Text size="xs" fw={600} mb={4}>
                Input snapshot
              </Text>
              <Code
                block
                style={{
                  maxHeight: 420,
                  overflow: 'auto',
                  whiteSpace: 'pre-wrap',
                  overflowWrap: 'anywhere',
                }}
                data-testid="raw-input"
              >
                {JSON.stringify(step.input_snapshot, null, 2)}
              </Code>
            </div>
            <div>
              <Text size="xs" fw={600} mb={4}>
                Output snapshot
              </Text>
              <Code
                block
                style={{
                  maxHeight: 420,
                  overflow: 'auto',
                  whiteSpace: 'pre-wrap',
                  overflowWrap: 'anywhere',
                }}
                data-testid="raw-output"
              >
                {JSON.stringify(step.output_snapshot, null, 2)}
              </Code>
            </div>
          </SimpleGrid>
        )}
      </Stack>
    </Paper>
  );
}

/** One run: its status and times, then every step in order, by attempt when it was resumed. */
export function RunView({ detail, users }: { detail: RunDetail; users: readonly TeamMember[] }) {
  const run = detail.workflow_run;
  const steps = sortSteps(detail.steps);
  const attempts = stepsByAttempt(detail.steps);
  const last = attempts[attempts.length - 1]?.attempt;
  const people: Pick<User, 'id' | 'name'>[] = users.length ? [...users] : usersFromSnapshots(steps);
  const duration =
    run.finished_at && run.started_at
      ? new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()
      : null;
  return (
    <Stack gap="md" data-testid="run-view">
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Run details
          </Title>
          <div data-testid="run-status">
            <RunStatusBadge status={run.status} />
          </div>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
          <Fact name="Started" value={formatDateTime(run.started_at, true)} />
          <Fact name="Finished" value={formatDateTime(run.finished_at, true)} />
          <Fact name="Duration" value={duration === null ? '—' : formatDuration(duration)} />
          <Fact name="Attempts" value={run.attempts ?? 1} />
        </SimpleGrid>
        {run.error_message && (
          <Alert color="red" mt="sm" title="Error">
            {run.error_message}
          </Alert>
        )}
      </Paper>
      {steps.length === 0 ? (
        <Text c="dimmed" size="sm">
          No steps recorded yet.
        </Text>
      ) : attempts.length === 1 ? (
        attempts[0]?.steps.map((step, index) => (
          <StepCard key={step.id} step={step} index={index} users={people} />
        ))
      ) : (
        attempts.map((group) => (
          <Stack gap="sm" key={group.attempt} data-testid="run-attempt">
            <Title order={3} size="h5">
              {group.attempt === last
                ? `Attempt ${group.attempt}`
                : `Attempt ${group.attempt} — interrupted`}
            </Title>
            {group.steps.map((step, index) => (
              <StepCard key={step.id} step={step} index={index} users={people} />
            ))}
          </Stack>
        ))
      )}
    </Stack>
  );
}
