"""The screens over the panes: history, diff, export, help, a prompt, a .http request list."""
