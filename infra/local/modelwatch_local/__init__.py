"""The local runtime: the functions' own code on moto, with what moto does not do done here
(HTTP on 127.0.0.1, log subscriptions, a movable clock)."""
