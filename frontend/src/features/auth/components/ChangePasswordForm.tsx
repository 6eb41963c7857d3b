//! Choosing a new password: the forced screen after a temporary password, and the user menu's
//! "Change password".
import { Alert, Button, PasswordInput, Stack } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { errorMessage } from '@/lib/api/errors';
import { applyFieldErrors } from '@/lib/forms';

export const NEW_PASSWORD_MIN = 12;

export function ChangePasswordForm({ onSuccess }: { onSuccess: () => void }) {
  const change = useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) =>
      unwrap(api.POST('/auth/password', { body })),
  });
  const form = useForm({
    mode: 'controlled',
    initialValues: { current_password: '', new_password: '', confirm: '' },
    validate: {
      current_password: (v) => (v ? null : 'Enter your current password'),
      new_password: (v) =>
        v.length < NEW_PASSWORD_MIN
          ? `Use at least ${NEW_PASSWORD_MIN} characters`
          : v.length > 128
            ? 'Use at most 128 characters'
            : null,
      confirm: (v, values) => (v === values.new_password ? null : 'The passwords differ'),
    },
  });
  const submit = form.onSubmit((values) => {
    change.mutate(
      { current_password: values.current_password, new_password: values.new_password },
      { onSuccess, onError: (error) => applyFieldErrors(form, error) },
    );
  });
  const showError = change.error && !Object.keys(form.errors).length;
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {showError && (
          <Alert color="red" role="alert">
            {errorMessage(change.error)}
          </Alert>
        )}
        <PasswordInput
          label="Current password"
          required
          autoComplete="current-password"
          {...form.getInputProps('current_password')}
        />
        <PasswordInput
          label="New password"
          description="At least 12 characters; a phrase of unrelated words works well."
          required
          autoComplete="new-password"
          {...form.getInputProps('new_password')}
        />
        <PasswordInput
          label="Repeat the new password"
          required
          autoComplete="new-password"
          {...form.getInputProps('confirm')}
        />
        <Button type="submit" loading={change.isPending}>
          Change password
        </Button>
      </Stack>
    </form>
  );
}
