import { Alert, Button, Group, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { label, ROLES } from '@/lib/api/enums';
import { errorMessage } from '@/lib/api/errors';
import type { CreateUserResponse, Role } from '@/lib/api/types';
import { applyFieldErrors } from '@/lib/forms';
import { email, LIMITS, required } from '@/lib/validation';
import { useCreateUser } from '../api/users';
import { TemporaryPassword } from './TemporaryPassword';

/** Adds a user; the temporary password is shown once, here, with a copy button. */
export function AddUserForm({ onDone }: { onDone: () => void }) {
  const create = useCreateUser();
  const [created, setCreated] = useState<CreateUserResponse | null>(null);
  const form = useForm({
    mode: 'controlled',
    initialValues: { name: '', email: '', role: 'agent' as Role },
    validate: { name: required('Name', LIMITS.name), email },
  });

  if (created) {
    return (
      <TemporaryPassword
        title={`${created.user.name} was added`}
        email={created.user.email}
        password={created.temporary_password}
        onDone={onDone}
      />
    );
  }

  const submit = form.onSubmit((values) =>
    create.mutate(
      { name: values.name.trim(), email: values.email.trim(), role: values.role },
      {
        onSuccess: setCreated,
        onError: (error) => applyFieldErrors(form, error),
      },
    ),
  );

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {create.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
        <TextInput label="Email" type="email" required {...form.getInputProps('email')} />
        <Select
          label="Role"
          data={ROLES.map((value) => ({ value, label: label(value) }))}
          allowDeselect={false}
          {...form.getInputProps('role')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Add user
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
