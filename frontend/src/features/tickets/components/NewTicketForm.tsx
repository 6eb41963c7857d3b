import { Alert, Button, Group, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { label, TICKET_CHANNELS } from '@/lib/api/enums';
import { errorMessage } from '@/lib/api/errors';
import type { Ticket, TicketChannel } from '@/lib/api/types';
import { applyFieldErrors } from '@/lib/forms';
import { customerRules, LIMITS, required } from '@/lib/validation';
import { CustomerFields } from './CustomerFields';
import { useCreateTicket } from '../api/tickets';

export function NewTicketForm({
  onCreated,
  onCancel,
}: {
  onCreated: (ticket: Ticket) => void;
  onCancel?: () => void;
}) {
  const create = useCreateTicket();
  const form = useForm({
    mode: 'controlled',
    initialValues: {
      subject: '',
      body: '',
      channel: 'web' as TicketChannel,
      customer_name: '',
      customer_email: '',
    },
    validate: {
      subject: required('Subject', LIMITS.subject),
      body: required('Message', LIMITS.body),
      ...customerRules,
    },
  });

  const submit = form.onSubmit((values) => {
    create.mutate(
      {
        subject: values.subject.trim(),
        body: values.body.trim(),
        channel: values.channel,
        customer_name: values.customer_name.trim(),
        customer_email: values.customer_email.trim(),
      },
      {
        onSuccess: (ticket) => {
          form.reset();
          onCreated(ticket);
        },
        onError: (error) => applyFieldErrors(form, error),
      },
    );
  });

  const showError = create.error && !Object.keys(form.errors).length;

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {showError && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <CustomerFields form={form} autoFocus />
        <TextInput label="Subject" required {...form.getInputProps('subject')} />
        <Textarea
          label="Message"
          description="What the customer wrote"
          required
          autosize
          minRows={5}
          maxRows={14}
          {...form.getInputProps('body')}
        />
        <Select
          label="Channel"
          data={TICKET_CHANNELS.map((value) => ({ value, label: label(value) }))}
          allowDeselect={false}
          {...form.getInputProps('channel')}
        />
        <Group justify="flex-end">
          {onCancel && (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          )}
          <Button type="submit" loading={create.isPending}>
            Create ticket
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
