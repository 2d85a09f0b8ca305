"""The option tables of netlab.engine.curl agree with each other (issue 13.4 split _apply into
a table of handlers: an option listed as handled must reach one)."""

import dataclasses

from netlab.engine import curl

# handled options that need nothing: what netlab does anyway
_NOTHING_TO_DO = {"--http1.1", "--globoff", "--basic"}


def test_every_handled_option_has_a_handler():
    reached = set(curl._FLAGS) | set(curl._HANDLERS) | _NOTHING_TO_DO
    assert reached == set(curl._HANDLED)


def test_flags_take_no_value_and_handlers_take_one():
    assert not any(curl._HANDLED[name] for name in curl._FLAGS)
    assert all(curl._HANDLED[name] for name in curl._HANDLERS)


def test_flags_name_state_fields():
    fields = {f.name: f for f in dataclasses.fields(curl._State)}
    for name, attr in curl._FLAGS.items():
        assert attr in fields, name
        assert fields[attr].default is False, name


def test_short_options_name_known_long_ones():
    known = set(curl._HANDLED) | set(curl._QUIET) | set(curl._NOTED) | set(curl._UNSUPPORTED)
    assert set(curl._SHORT.values()) <= known
