import { Group, List, Loader, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconCircleDashed, IconX } from '@tabler/icons-react';
import type { WorkflowRun, WorkflowStep } from '@/lib/api/types';
import { formatDuration } from '@/lib/format';
import { STEP_ORDER, stepLabel, stepsByType } from './steps';

/** The five steps of a run: done, in progress, failed or waiting. */
export function TriageProgress({
  run,
  steps,
}: {
  run: WorkflowRun;
  steps: readonly WorkflowStep[];
}) {
  const by = stepsByType(steps);
  const active = run.status === 'queued' || run.status === 'running';
  const firstPending = STEP_ORDER.find((type) => !by[type]);
  return (
    <List spacing={6} size="sm" center aria-label="Triage progress" listStyleType="none">
      {STEP_ORDER.map((type) => {
        const step = by[type];
        const running = active && !step && type === firstPending && run.status === 'running';
        let icon;
        let state: string;
        if (step?.succeeded) {
          icon = (
            <ThemeIcon color="teal" size={22} radius="xl">
              <IconCheck size={14} />
            </ThemeIcon>
          );
          state = 'done';
        } else if (step) {
          icon = (
            <ThemeIcon color="red" size={22} radius="xl">
              <IconX size={14} />
            </ThemeIcon>
          );
          state = 'failed';
        } else if (running) {
          icon = <Loader size={20} />;
          state = 'in progress';
        } else {
          icon = (
            <ThemeIcon color="gray" variant="light" size={22} radius="xl">
              <IconCircleDashed size={14} />
            </ThemeIcon>
          );
          state = active ? 'waiting' : 'not run';
        }
        return (
          <List.Item key={type} icon={icon} data-testid={`step-${type}`} data-state={state}>
            <Group gap="xs">
              <Text size="sm" c={step || running ? undefined : 'dimmed'}>
                {stepLabel(type)}
              </Text>
              <Text size="xs" c="dimmed">
                {step ? formatDuration(step.latency_ms) : state}
              </Text>
            </Group>
          </List.Item>
        );
      })}
    </List>
  );
}
