import { Alert, Button, Group, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { errorMessage } from '@/lib/api/errors';
import type { Tenant } from '@/lib/api/types';
import { applyFieldErrors } from '@/lib/forms';
import { LIMITS, optionalMax, required } from '@/lib/validation';
import { useUpdateTenant } from '../api/tenant';

export function SettingsForm({ tenant }: { tenant: Tenant }) {
  const update = useUpdateTenant();
  const form = useForm({
    mode: 'controlled',
    initialValues: { name: tenant.name, policies: tenant.policies ?? '' },
    validate: {
      name: required('Workspace name', LIMITS.tenantName),
      policies: optionalMax('Policies', LIMITS.policies),
    },
  });

  const submit = form.onSubmit((values) =>
    update.mutate(
      { name: values.name.trim(), policies: values.policies.trim() },
      {
        onSuccess: (next) => {
          form.setInitialValues({ name: next.name, policies: next.policies ?? '' });
          form.reset();
        },
        onError: (error) => applyFieldErrors(form, error),
      },
    ),
  );

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {update.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(update.error)}
          </Alert>
        )}
        <TextInput label="Workspace name" required {...form.getInputProps('name')} />
        <Text size="sm" c="dimmed">
          Workspace address: <b>{tenant.slug}</b> (used to pick a workspace at login)
        </Text>
        <Textarea
          label="Policies"
          description="Guidance a language-model provider (OpenAI, Anthropic) follows when drafting replies: tone, refund policy, support hours, what never to promise. It is never quoted to customers, and the offline engine does not read it."
          autosize
          minRows={8}
          maxRows={24}
          {...form.getInputProps('policies')}
        />
        <Text size="xs" c="dimmed" ta="right">
          {form.getValues().policies.length.toLocaleString('en-US')} /{' '}
          {LIMITS.policies.toLocaleString('en-US')}
        </Text>
        <Group justify="flex-end">
          {update.isSuccess && !form.isDirty() && (
            <Text size="sm" c="teal" role="status">
              Settings saved
            </Text>
          )}
          <Button type="submit" loading={update.isPending} disabled={!form.isDirty()}>
            Save settings
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
