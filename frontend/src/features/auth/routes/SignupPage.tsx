import { Anchor, Text } from '@mantine/core';
import { Link, useNavigate } from 'react-router';
import { AuthCard } from '../components/AuthCard';
import { SignupForm } from '../components/SignupForm';

export function SignupPage() {
  const navigate = useNavigate();
  return (
    <AuthCard
      title="Create your workspace"
      subtitle="Start a help desk for your agency. You will be its admin."
    >
      <SignupForm onSuccess={() => void navigate('/tickets', { replace: true })} />
      <Text size="sm" mt="lg" ta="center">
        Already have an account?{' '}
        <Anchor component={Link} to="/login">
          Log in
        </Anchor>
      </Text>
    </AuthCard>
  );
}
