//! The answer of "Test connection", one line per server, in words an admin understands.
import { Alert, Stack, Text } from '@mantine/core';
import type { ConnectionCheck, EmailTestResult } from '@/lib/api/types';

function Part({ name, check }: { name: string; check: ConnectionCheck }) {
  if (check.ok) {
    return (
      <Alert color="teal" title={`${name}: connected`}>
        The login worked{name.startsWith('Incoming') ? ' and the folder opened' : ''}.
      </Alert>
    );
  }
  return (
    <Alert color="red" title={`${name}: failed`}>
      <Stack gap={4}>
        <Text size="sm">{capitalise(check.explanation ?? 'the connection failed')}.</Text>
        {check.detail && (
          <Text size="xs" c="dimmed">
            The server said: {check.detail}
          </Text>
        )}
      </Stack>
    </Alert>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function ConnectionTestResult({ result }: { result: EmailTestResult }) {
  return (
    <Stack gap="xs" role="status" aria-label="Connection test result">
      <Part name="Incoming mail (IMAP)" check={result.imap} />
      <Part name="Outgoing mail (SMTP)" check={result.smtp} />
    </Stack>
  );
}
