import { Alert, Button, Group, List, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { GUARDRAIL_LABELS } from '@/lib/guardrails';

/** The server held a reply back because it makes a commitment: say which, and let the sender
 * edit it or send it anyway (the confirmation is recorded in the audit log). */
export function GuardrailWarning({
  flags,
  onConfirm,
  onEdit,
  pending,
}: {
  flags: readonly string[];
  onConfirm: () => void;
  onEdit: () => void;
  pending: boolean;
}) {
  return (
    <Alert
      color="orange"
      icon={<IconAlertTriangle size={18} />}
      title="Check this reply before it goes out"
      role="alert"
    >
      <Text size="sm" mb="xs">
        It may commit the team to something that needs approval:
      </Text>
      <List size="sm" mb="sm">
        {flags.map((flag) => (
          <List.Item key={flag}>
            <b>{GUARDRAIL_LABELS[flag]?.title ?? flag}</b>
            {GUARDRAIL_LABELS[flag] ? ` — ${GUARDRAIL_LABELS[flag].hint}` : ''}
          </List.Item>
        ))}
      </List>
      <Group gap="xs">
        <Button size="xs" variant="default" onClick={onEdit} disabled={pending}>
          Edit reply
        </Button>
        <Button size="xs" color="orange" onClick={onConfirm} loading={pending}>
          Send anyway
        </Button>
      </Group>
    </Alert>
  );
}
