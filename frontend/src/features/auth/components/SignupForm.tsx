import { Alert, Button, Checkbox, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { ApiError, errorMessage } from '@/lib/api/errors';
import { applyFieldErrors } from '@/lib/forms';
import { email, LIMITS, newPassword, required } from '@/lib/validation';
import { useSignup } from '../api/auth';

export function SignupForm({ onSuccess }: { onSuccess?: () => void }) {
  const signup = useSignup();
  const form = useForm({
    mode: 'controlled',
    initialValues: {
      tenant_name: '',
      user_name: '',
      email: '',
      password: '',
      additional_workspace: false,
    },
    validate: {
      tenant_name: required('Workspace name', LIMITS.tenantName),
      user_name: required('Your name', LIMITS.name),
      email,
      password: newPassword,
    },
  });

  const submit = form.onSubmit((values) => {
    signup.mutate(
      {
        tenant_name: values.tenant_name.trim(),
        user_name: values.user_name.trim(),
        email: values.email.trim(),
        password: values.password,
        ...(values.additional_workspace ? { additional_workspace: true } : {}),
      },
      {
        onSuccess: () => onSuccess?.(),
        onError: (error) => applyFieldErrors(form, error, { name: 'user_name' }),
      },
    );
  });

  const unmatchedError = signup.error && !Object.keys(form.errors).length ? signup.error : null;
  // The email already owns a workspace: another one is created only when the person says so.
  const askAdditional =
    form.values.additional_workspace ||
    (signup.error instanceof ApiError && signup.error.code === 'additional_workspace_required');

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {unmatchedError && (
          <Alert color="red" role="alert">
            {errorMessage(unmatchedError)}
          </Alert>
        )}
        <TextInput
          label="Workspace name"
          description="Your agency or team, e.g. Acme Agency"
          required
          autoFocus
          {...form.getInputProps('tenant_name')}
        />
        <TextInput
          label="Your name"
          required
          autoComplete="name"
          {...form.getInputProps('user_name')}
        />
        <TextInput
          label="Email"
          type="email"
          required
          autoComplete="email"
          {...form.getInputProps('email')}
        />
        <PasswordInput
          label="Password"
          description={`${LIMITS.passwordMin} to ${LIMITS.passwordMax} characters`}
          required
          autoComplete="new-password"
          {...form.getInputProps('password')}
        />
        {askAdditional && (
          <Checkbox
            label="Yes, create another workspace for this email"
            {...form.getInputProps('additional_workspace', { type: 'checkbox' })}
          />
        )}
        <Button type="submit" loading={signup.isPending} fullWidth>
          Create workspace
        </Button>
      </Stack>
    </form>
  );
}
