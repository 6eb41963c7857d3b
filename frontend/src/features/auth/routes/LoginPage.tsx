import { Alert, Anchor, Text } from '@mantine/core';
import { Link, useLocation, useNavigate } from 'react-router';
import { useAuth } from '@/lib/auth/context';
import type { LoginRedirectState } from '@/lib/auth/guards';
import { AuthCard } from '../components/AuthCard';
import { LoginForm } from '../components/LoginForm';

export function LoginPage() {
  const { notice } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as LoginRedirectState | null)?.from;

  return (
    <AuthCard title="Log in" subtitle="Welcome back to your help desk.">
      {notice && (
        <Alert color="blue" mb="md" role="status">
          {notice}
        </Alert>
      )}
      <LoginForm
        onSuccess={() =>
          void navigate(from && from.startsWith('/') ? from : '/tickets', { replace: true })
        }
      />
      <Text size="sm" mt="lg" ta="center">
        New here?{' '}
        <Anchor component={Link} to="/signup" state={location.state}>
          Create a workspace
        </Anchor>
      </Text>
    </AuthCard>
  );
}
