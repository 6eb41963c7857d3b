//! Shared loading and error states for anything fetched.
import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import { IconAlertTriangle, IconWifiOff } from '@tabler/icons-react';
import { ApiError, errorMessage, NetworkError } from '@/lib/api/errors';

export function PageLoader({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Stack align="center" gap="xs">
        <Loader />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Stack>
    </Center>
  );
}

/** Shows an API error's message; a network failure says so. Offers retry when given one. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const offline = error instanceof NetworkError;
  const title = offline
    ? 'Network problem'
    : error instanceof ApiError && error.status === 404
      ? 'Not found'
      : 'Something went wrong';
  return (
    <Alert
      color={offline ? 'orange' : 'red'}
      title={title}
      icon={offline ? <IconWifiOff size={18} /> : <IconAlertTriangle size={18} />}
      role="alert"
    >
      <Group justify="space-between" align="center" wrap="wrap">
        <Text size="sm">{errorMessage(error)}</Text>
        {onRetry && (
          <Button size="xs" variant="white" color="dark" onClick={onRetry}>
            Retry
          </Button>
        )}
      </Group>
    </Alert>
  );
}
