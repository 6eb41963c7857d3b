//! The change-password screen, and the gate that shows it before anything else to users who
//! signed in with a temporary password.
import { Alert, Container, Paper, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Outlet } from 'react-router';
import { useAuth } from '@/lib/auth/context';
import { ChangePasswordForm } from '../components/ChangePasswordForm';

export function ChangePasswordPage() {
  const { user, updateUser } = useAuth();
  const [done, setDone] = useState(false);
  const forced = user?.must_change_password ?? false;
  return (
    <Container size="xs" py="xl">
      <Title order={1} size="h2" mb="sm">
        {forced ? 'Choose your own password' : 'Change password'}
      </Title>
      {forced && (
        <Text c="dimmed" mb="md">
          You signed in with a temporary password. Choose your own before you continue.
        </Text>
      )}
      {done && (
        <Alert color="green" role="status" mb="md">
          Your password was changed. Your other sessions were logged out.
        </Alert>
      )}
      <Paper withBorder p="lg">
        <ChangePasswordForm
          onSuccess={() => {
            setDone(true);
            if (user) updateUser({ ...user, must_change_password: false });
          }}
        />
      </Paper>
    </Container>
  );
}

/** Users holding a temporary password see only the change-password screen. */
export function RequireOwnPassword() {
  const { user } = useAuth();
  if (user?.must_change_password) return <ChangePasswordPage />;
  return <Outlet />;
}
