import { Alert, Button, Group, Modal, Paper, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';
import { IconUserPlus } from '@tabler/icons-react';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { errorMessage } from '@/lib/api/errors';
import type { User } from '@/lib/api/types';
import { useAuth } from '@/lib/auth/context';
import { type UserChanges, useResetPassword, useTeam, useUpdateUser } from '../api/users';
import { AddUserForm } from '../components/AddUserForm';
import { TeamTable } from '../components/TeamTable';
import { TemporaryPassword } from '../components/TemporaryPassword';

export function TeamPage() {
  const { user: me, updateUser: updateMe } = useAuth();
  const team = useTeam();
  const update = useUpdateUser();
  const [adding, { open, close }] = useDisclosure(false);
  const [confirming, setConfirming] = useState<User | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const reset = useResetPassword();
  const closeReset = () => {
    setResetting(null);
    reset.reset();
  };

  const apply = (user: User, changes: UserChanges) =>
    update.mutate({ id: user.id, changes }, { onSuccess: (updated) => updateMe(updated) });

  // Deactivating locks someone out: confirm first. Other changes apply at once.
  const change = (user: User, changes: UserChanges) => {
    if (changes.active === false) setConfirming(user);
    else apply(user, changes);
  };

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          Team
        </Title>
        <Button leftSection={<IconUserPlus size={16} />} onClick={open}>
          Add user
        </Button>
      </Group>
      {update.isError && (
        <Alert color="red" role="alert" withCloseButton onClose={() => update.reset()}>
          {errorMessage(update.error)}
        </Alert>
      )}
      <Paper withBorder radius="md">
        {team.isPending ? (
          <PageLoader label="Loading team…" />
        ) : team.isError ? (
          <Stack p="md">
            <ErrorState error={team.error} onRetry={() => void team.refetch()} />
          </Stack>
        ) : (
          <TeamTable
            users={team.data}
            currentUserId={me?.id}
            onChange={change}
            onResetPassword={setResetting}
            pendingId={update.isPending ? (update.variables?.id ?? null) : null}
          />
        )}
      </Paper>
      <Modal
        opened={!!confirming}
        onClose={() => setConfirming(null)}
        title={confirming ? `Deactivate ${confirming.name}?` : ''}
      >
        <Stack>
          <Text size="sm">
            They will no longer be able to log in or be assigned tickets. You can reactivate them
            later.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(null)}>
              Cancel
            </Button>
            <Button
              color="red"
              onClick={() => {
                if (confirming) apply(confirming, { active: false });
                setConfirming(null);
              }}
            >
              Deactivate
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Modal
        opened={!!resetting}
        onClose={closeReset}
        title={resetting ? `Reset the password of ${resetting.name}?` : ''}
        closeOnClickOutside={false}
      >
        {resetting && reset.data ? (
          <TemporaryPassword
            title={`New temporary password for ${resetting.name}`}
            email={resetting.email}
            password={reset.data.temporary_password}
            onDone={closeReset}
          />
        ) : (
          <Stack>
            {reset.isError && (
              <Alert color="red" role="alert">
                {errorMessage(reset.error)}
              </Alert>
            )}
            <Text size="sm">
              Their current password stops working and every session they have ends. You get a
              temporary password to give them; they choose their own at their next login.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={closeReset}>
                Cancel
              </Button>
              <Button
                loading={reset.isPending}
                onClick={() => resetting && reset.mutate(resetting.id)}
              >
                Reset password
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
      <Modal opened={adding} onClose={close} title="Add user" closeOnClickOutside={false}>
        <AddUserForm onDone={close} />
      </Modal>
    </Stack>
  );
}
