import { directiveBounds, managedAgentsOf } from './managed-agents';

test('agents with a model of their own are managed, with the bounds of their directives', () => {
  const bounds = directiveBounds();
  expect(bounds.get('classifier')).toEqual({ min: 1, max: 2 });
  const agents = managedAgentsOf(
    {
      classifier: { model: 'router-classifier' },
      chatBranch: { model: 'router-chat' },
      // Two agents on one model cannot be told apart by the replicas: neither is managed.
      planner: { model: 'shared' },
      tester: { model: 'shared' },
      // No model of its own: the default endpoint.
      writer: {},
      unknownToManifest: { model: 'm' },
    },
    bounds,
  );
  expect(agents).toEqual([
    { agent: 'classifier', model: 'router-classifier', minInstances: 1, maxInstances: 2 },
    { agent: 'chatBranch', model: 'router-chat', minInstances: 1, maxInstances: 8 },
    { agent: 'unknownToManifest', model: 'm' },
  ]);
});

test('an unreadable manifest is a configuration error that says how to make one', () => {
  expect(() => directiveBounds('/nonexistent/manifest.json')).toThrow(/run npm run stubs/);
});
