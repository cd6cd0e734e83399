"""Work orders (工单): lifecycle as a transition table, dispatch, repair steps, SLA clocks, ratings,
callbacks, repeat complaints, the evidence chain and KPIs."""
