import { Alert, Button, Checkbox, Group, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { errorMessage } from '@/lib/api/errors';
import { applyFieldErrors } from '@/lib/forms';
import { useCreateWebhook, WEBHOOK_EVENTS } from '../api/webhooks';

interface Values {
  url: string;
  description: string;
  events: string[];
}

/** Registers an endpoint; hands the secret (shown once) to `onCreated`. */
export function AddWebhookForm({ onCreated }: { onCreated: (secret: string) => void }) {
  const create = useCreateWebhook();
  const form = useForm<Values>({
    mode: 'controlled',
    initialValues: { url: '', description: '', events: ['ticket.created'] },
    validate: {
      url: (v) => (/^https?:\/\/\S+$/i.test(v.trim()) ? null : 'Enter an https:// or http:// URL'),
      events: (v) => (v.length === 0 ? 'Choose at least one event' : null),
    },
  });
  const submit = form.onSubmit((values) => {
    create.mutate(
      { url: values.url.trim(), description: values.description.trim(), events: values.events },
      {
        onSuccess: (created) => {
          form.reset();
          onCreated(created.secret);
        },
        onError: (error) => applyFieldErrors(form, error),
      },
    );
  });
  const unmatched = create.isError && Object.keys(form.errors).length === 0;
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        <TextInput
          label="Endpoint URL"
          placeholder="https://example.com/webhooks/opsflow"
          required
          {...form.getInputProps('url')}
        />
        <TextInput
          label="Description"
          placeholder="CRM sync"
          maxLength={200}
          {...form.getInputProps('description')}
        />
        <Checkbox.Group label="Events" required {...form.getInputProps('events')}>
          <Group mt="xs">
            {WEBHOOK_EVENTS.map((e) => (
              <Checkbox key={e.value} value={e.value} label={e.label} />
            ))}
          </Group>
        </Checkbox.Group>
        {unmatched && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={create.isPending}>
            Add endpoint
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
