// Admins only (the route exists for them alone, and the server checks again).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ROLES, type Role } from '../../../server/auth/roles.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';

export function AdminPage() {
  const queryClient = useQueryClient();
  const users = useQuery(trpc.admin.listUsers.queryOptions());
  const setRole = useMutation(
    trpc.admin.setRole.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.admin.listUsers.queryKey() }),
    }),
  );

  return (
    <>
      <h1>Admin</h1>
      <ErrorMessage error={users.error ?? setRole.error} />
      {users.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((user) => (
              <tr key={user.id}>
                <td>{user.email}</td>
                <td>
                  <select
                    aria-label={`Role of ${user.email}`}
                    value={user.role}
                    disabled={setRole.isPending}
                    onChange={(event) => setRole.mutate({ userId: user.id, role: event.target.value as Role })}
                  >
                    {ROLES.map((role) => (
                      <option key={role}>{role}</option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
