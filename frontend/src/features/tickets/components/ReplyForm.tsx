import { Alert, Button, Group, Select, Stack, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { label } from '@/lib/api/enums';
import { errorMessage, needsConfirmation } from '@/lib/api/errors';
import { GuardrailWarning } from '@/components/GuardrailWarning';
import type { TicketStatus } from '@/lib/api/types';
import { replySavedNotice } from '@/lib/delivery';
import { applyFieldErrors } from '@/lib/forms';
import { LIMITS, required } from '@/lib/validation';
import { useAuth } from '@/lib/auth/context';
import { useCreateReply } from '../api/tickets';
import { loadReplyDraft, storeReplyDraft, useConfirmLeave } from './replyDraft';

const KEEP = 'keep';

export function ReplyForm({ ticketId }: { ticketId: string }) {
  const reply = useCreateReply(ticketId);
  const { user } = useAuth();
  const form = useForm({
    mode: 'controlled',
    initialValues: { body: loadReplyDraft(user?.id, ticketId), status: 'replied' as string },
    validate: { body: required('Reply', LIMITS.body) },
    onValuesChange: (values) => storeReplyDraft(user?.id, ticketId, values.body),
  });
  useConfirmLeave(form.values.body.trim().length > 0);

  const flagged = needsConfirmation(reply.error);
  const send = (values: typeof form.values, confirm: boolean) => {
    reply.mutate(
      {
        body: values.body.trim(),
        ...(values.status !== KEEP ? { status: values.status as TicketStatus } : {}),
        ...(confirm ? { confirm_warnings: true } : {}),
      },
      {
        onSuccess: (saved) => {
          form.setValues({ body: '', status: 'replied' });
          storeReplyDraft(user?.id, ticketId, '');
          notifications.show({ color: 'teal', ...replySavedNotice(saved) });
        },
        onError: (error) => applyFieldErrors(form, error),
      },
    );
  };
  const submit = form.onSubmit((values) => send(values, false));

  return (
    <form onSubmit={submit} noValidate aria-label="Reply to customer">
      <Stack gap="sm">
        {flagged && (
          <GuardrailWarning
            flags={flagged}
            pending={reply.isPending}
            onConfirm={() => send(form.values, true)}
            onEdit={() => reply.reset()}
          />
        )}
        {reply.error && !flagged && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(reply.error)}
          </Alert>
        )}
        <Textarea
          label="Your reply"
          placeholder="Write a reply to the customer…"
          autosize
          minRows={3}
          maxRows={12}
          required
          {...form.getInputProps('body')}
        />
        <Group justify="flex-end" align="flex-end">
          <Select
            label="Then set status to"
            data={[
              { value: KEEP, label: 'Keep current status' },
              ...(['replied', 'pending', 'closed'] as const).map((value) => ({
                value,
                label: label(value),
              })),
            ]}
            allowDeselect={false}
            w={200}
            {...form.getInputProps('status')}
          />
          <Button type="submit" loading={reply.isPending}>
            Save reply
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
