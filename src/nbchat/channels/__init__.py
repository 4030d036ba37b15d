"""Chat platforms routed to the app's own callbacks (docs/channels.md).

- `relay.py`: a Transport that turns a session's server events into platform messages
  (posted, then updated while they stream; long replies split; steps as a summary line;
  actions and action asks as buttons), through a small `PlatformOutput` interface;
- `threads.py`: one live chat session per platform thread, with the thread's nbchat id
  derived from the platform's, so a restarted server resumes it from the data layer;
- `mrkdwn.py`: Markdown to Slack's mrkdwn, and splitting long text;
- `slack.py`: Slack's events endpoint (signature and replay-window checks, retries
  answered once) and the Web API calls, with slack_sdk.

Mounted by `nbchat serve` when the platform's credentials are in the environment.
"""
