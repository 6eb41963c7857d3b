import {
  ActionIcon,
  Alert,
  Button,
  Group,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPencil } from '@tabler/icons-react';
import { useState } from 'react';
import { label } from '@/lib/api/enums';
import { errorMessage } from '@/lib/api/errors';
import { useUpdateTicket } from '@/lib/api/tickets';
import type { Ticket, UpdateTicketBody } from '@/lib/api/types';
import { formatDateTime } from '@/lib/format';
import { applyFieldErrors } from '@/lib/forms';
import { customerRules, LIMITS, required } from '@/lib/validation';
import { CustomerFields } from './CustomerFields';

/**
 * The ticket's subject and customer. "Edit" turns them into a form that saves only what
 * changed with PATCH; the API's field errors land on the fields.
 */
export function TicketHeader({ ticket }: { ticket: Ticket }) {
  const [editing, setEditing] = useState(false);

  if (editing) return <HeaderForm ticket={ticket} onDone={() => setEditing(false)} />;
  return (
    <Group gap="xs" align="flex-start" wrap="nowrap" style={{ minWidth: 0, flex: 1 }}>
      <div style={{ minWidth: 0, flex: 1 }}>
        <Text size="sm" c="dimmed" fw={600} data-testid="ticket-number">
          Ticket #{ticket.number}
        </Text>
        <Title order={1} size="h3" style={{ overflowWrap: 'anywhere' }}>
          {ticket.subject}
        </Title>
        <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
          From <b>{ticket.customer_name}</b> &lt;{ticket.customer_email}&gt; · via{' '}
          {label(ticket.channel)} · {formatDateTime(ticket.created_at)}
        </Text>
      </div>
      <Tooltip label="Edit subject and customer">
        <ActionIcon
          variant="subtle"
          color="gray"
          aria-label="Edit subject and customer"
          onClick={() => setEditing(true)}
        >
          <IconPencil size={16} aria-hidden />
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}

function HeaderForm({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const update = useUpdateTicket(ticket.id);
  const form = useForm({
    mode: 'controlled',
    initialValues: {
      subject: ticket.subject,
      customer_name: ticket.customer_name,
      customer_email: ticket.customer_email,
    },
    validate: {
      subject: required('Subject', LIMITS.subject),
      ...customerRules,
    },
  });

  const submit = form.onSubmit((values) => {
    const body: UpdateTicketBody = {};
    const subject = values.subject.trim();
    const name = values.customer_name.trim();
    const mail = values.customer_email.trim();
    if (subject !== ticket.subject) body.subject = subject;
    if (name !== ticket.customer_name) body.customer_name = name;
    if (mail.toLowerCase() !== ticket.customer_email) body.customer_email = mail;
    if (Object.keys(body).length === 0) {
      onDone();
      return;
    }
    update.mutate(body, {
      onSuccess: onDone,
      onError: (error) => applyFieldErrors(form, error),
    });
  });

  const showError = update.error && !Object.keys(form.errors).length;

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label="Edit subject and customer"
      style={{ flex: 1, minWidth: 0 }}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onDone();
      }}
    >
      <Stack gap="xs">
        {showError && (
          <Alert color="red" role="alert">
            {errorMessage(update.error)}
          </Alert>
        )}
        <TextInput label="Subject" required data-autofocus {...form.getInputProps('subject')} />
        <CustomerFields form={form} />
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={onDone} disabled={update.isPending}>
            Cancel
          </Button>
          <Button type="submit" loading={update.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
