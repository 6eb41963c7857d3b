import { Alert, Button, PasswordInput, Radio, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { ApiError, errorMessage, type WorkspaceChoice } from '@/lib/api/errors';
import { applyFieldErrors } from '@/lib/forms';
import { email, password } from '@/lib/validation';
import { useLogin } from '../api/auth';

export function LoginForm({ onSuccess }: { onSuccess?: () => void }) {
  const login = useLogin();
  const [workspaces, setWorkspaces] = useState<WorkspaceChoice[] | null>(null);
  const [slug, setSlug] = useState<string>('');
  const [slugError, setSlugError] = useState<string | null>(null);
  const form = useForm({
    mode: 'controlled',
    initialValues: { email: '', password: '' },
    validate: { email, password },
    onValuesChange: () => {
      // Different credentials may match different workspaces: ask again.
      if (workspaces) {
        setWorkspaces(null);
        setSlug('');
      }
    },
  });

  const submit = form.onSubmit((values) => {
    if (workspaces && !slug) {
      setSlugError('Choose a workspace');
      return;
    }
    setSlugError(null);
    login.mutate(
      {
        email: values.email.trim(),
        password: values.password,
        ...(slug ? { tenant_slug: slug } : {}),
      },
      {
        onSuccess: () => onSuccess?.(),
        onError: (error) => {
          if (error instanceof ApiError && error.code === 'tenant_required') {
            setWorkspaces(error.workspaces);
            setSlug('');
            return;
          }
          applyFieldErrors(form, error);
        },
      },
    );
  });

  const needsWorkspace = login.error instanceof ApiError && login.error.code === 'tenant_required';
  const showError = login.error && !needsWorkspace && !Object.keys(form.errors).length;

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {showError && (
          <Alert color="red" role="alert">
            {login.error instanceof ApiError && login.error.status === 401
              ? 'Incorrect email or password.'
              : errorMessage(login.error)}
          </Alert>
        )}
        <TextInput
          label="Email"
          type="email"
          required
          autoComplete="email"
          autoFocus
          {...form.getInputProps('email')}
        />
        <PasswordInput
          label="Password"
          required
          autoComplete="current-password"
          {...form.getInputProps('password')}
        />
        {workspaces && (
          <Radio.Group
            label="Choose a workspace"
            description="This login belongs to more than one workspace."
            value={slug}
            onChange={(value) => {
              setSlug(value);
              setSlugError(null);
            }}
            error={slugError}
            required
          >
            <Stack gap="xs" mt="xs">
              {workspaces.map((workspace) => (
                <Radio
                  key={workspace.slug}
                  value={workspace.slug}
                  label={
                    <Text size="sm">
                      {workspace.name}{' '}
                      <Text span c="dimmed" size="xs">
                        ({workspace.slug})
                      </Text>
                    </Text>
                  }
                />
              ))}
            </Stack>
          </Radio.Group>
        )}
        <Button type="submit" loading={login.isPending} fullWidth>
          {workspaces ? 'Continue to workspace' : 'Log in'}
        </Button>
      </Stack>
    </form>
  );
}
