// A matrix from a list (a comprehension), build and repository facts from Drone's external variables,
// and a `kind: secret` document beside the pipelines: the top level is an array.
local branch = std.extVar('build.branch');
local event = std.extVar('build.event');
local versions = ['3.10', '3.11', '3.12'];

local test(version) = {
  kind: 'pipeline',
  type: 'docker',
  name: 'test-py' + std.strReplace(version, '.', ''),
  steps: [
    {
      name: 'test',
      image: 'python:' + version,
      commands: ['pip install -e .', 'pytest -q'],
    },
  ] + (if branch == 'main' then [{
         name: 'coverage',
         image: 'python:' + version,
         commands: ['echo coverage of %s at %s' % [std.extVar('repo.slug'), std.extVar('build.commit')]],
       }] else []),
};

[test(v) for v in versions] + [
  {
    kind: 'pipeline',
    name: 'publish',
    depends_on: ['test-py' + std.strReplace(v, '.', '') for v in versions],
    steps: [{
      name: 'upload',
      image: 'plugins/pypi',
      settings: { password: { from_secret: 'pypi_token' } },
      when: { event: [event] },
    }],
    trigger: { branch: [std.extVar('repo.branch')] },
  },
  {
    kind: 'secret',
    name: 'pypi_token',
    get: { path: 'ci/pypi', name: 'token' },
  },
]
