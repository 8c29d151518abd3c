// Three hand-written earnings calls with the turns DESIGN §7.3 makes of them, derived by hand
// (not by running a splitter), so a parser test has an independent answer key. Between them
// they hold every hard case of the transcript layouts:
//
// | case | call |
// |---|---|
// | Motley Fool layout: `Prepared Remarks:`, `Name -- Title`, `Name -- Firm -- Analyst`, `Questions & Answers:`, `Duration: 58 minutes`, `Call participants:` at the end | `fool` |
// | a CFO `Name -- Chief Financial Officer`; a title with commas (`President, Chief Executive Officer and Director`) | `fool` |
// | the CFO reads a webcast question inside her own turn (no speaker change) | `fool` |
// | the operator announces one analyst, the speaker line names another: the label wins | `fool`, `sa` |
// | Seeking Alpha layout: a title line (a turn with no speaker), `Company Participants` / `Conference Call Participants` lists, bare-name speaker lines, `Question-and-Answer Session` | `sa` |
// | text right after the Q&A header, before any speaker line: the operator goes on, in a new `qa` turn | `sa` |
// | `Unidentified Analyst`; `[Operator Instructions]` inside an operator paragraph | `sa` (and `fool`) |
// | no Q&A at all; `Corporate Participants` with en-dash entries; a `Presentation` header; `Unidentified Company Representative`; a name with `Jr.` | `preparedOnly` |
//
// The calls sit on hand-placed securities of DEMO_FACTS (so they exist at every seed and
// scale), on the days those securities' reports are published in fundamentals.csv, and quote
// the reported figures.

export type TranscriptLayout = 'fool' | 'sa';
export type TranscriptSection = 'prepared' | 'qa';
export type TranscriptRole = 'operator' | 'executive' | 'analyst' | 'unknown';

/** Who speaks in a turn (DESIGN §6.2 output columns). */
export interface TurnSpeaker {
  /** Null for text before the first speaker line (the title line of a Seeking Alpha transcript). */
  readonly speaker: string | null;
  readonly role: TranscriptRole;
  readonly title: string | null;
  readonly firm: string | null;
}

/** A turn of a sample call: everything §6.2 outputs about it except text and words. */
export interface SampleTurn extends TurnSpeaker {
  readonly section: TranscriptSection;
  /** 0-based over the whole call. */
  readonly turn: number;
}

export interface SampleCall {
  /** Key of the case: `fool`, `sa` or `preparedOnly`. */
  readonly case: string;
  readonly layout: TranscriptLayout;
  readonly transcriptId: string;
  readonly sid: string;
  /** ISO 8601 with the New York offset. */
  readonly callStart: string;
  readonly publishedAt: string;
  readonly text: string;
  /** Every turn, in order. */
  readonly turns: readonly SampleTurn[];
  /** The exact text of some turns: its lines, trimmed, joined with `\n`. */
  readonly expectedTexts: readonly { readonly turn: number; readonly text: string }[];
}

const OPERATOR = { speaker: 'Operator', role: 'operator', title: null, firm: null } as const;
const NO_SPEAKER = { speaker: null, role: 'unknown', title: null, firm: null } as const;

// ---------------------------------------------------------------------------------------
// Motley Fool layout: Granite Utilities (S00008), Q4 2019, the morning of its 07:30 release.

const GRNT_CEO = { speaker: 'Thomas Whitfield', role: 'executive', title: 'President, Chief Executive Officer and Director', firm: null } as const;
const GRNT_CFO = { speaker: 'Karen Osei', role: 'executive', title: 'Chief Financial Officer', firm: null } as const;
const GRNT_IR = { speaker: 'Maria Lopez', role: 'executive', title: 'Vice President, Investor Relations', firm: null } as const;
const GRNT_ROE = { speaker: 'Jane Roe', role: 'analyst', title: 'Analyst', firm: 'Morgan Stanley' } as const;
const GRNT_MORENO = { speaker: 'Luis Moreno', role: 'analyst', title: 'Analyst', firm: 'Goldman Sachs' } as const;
const GRNT_KIM = { speaker: 'Rachel Kim', role: 'analyst', title: 'Analyst', firm: 'KeyBanc Capital Markets' } as const;

const FOOL: SampleCall = {
  case: 'fool',
  layout: 'fool',
  transcriptId: 'S00008-2020-02-20',
  sid: 'S00008',
  callStart: '2020-02-20T10:00:00-05:00',
  publishedAt: '2020-02-20T15:12:00-05:00',
  text: [
    'Prepared Remarks:',
    'Operator',
    'Good day, and welcome to the Granite Utilities Fourth Quarter and Full Year 2019 Earnings Conference Call. [Operator Instructions] Please note this event is being recorded. I would now like to turn the conference over to Maria Lopez, Vice President of Investor Relations. Please go ahead.',
    'Maria Lopez -- Vice President, Investor Relations',
    'Thank you, and good morning, everyone. With me today are Thomas Whitfield, our President and Chief Executive Officer, and Karen Osei, our Chief Financial Officer.',
    "Before we begin, let me remind you that today's remarks include forward-looking statements. Actual results may differ materially, and we undertake no obligation to update these statements. A reconciliation of non-GAAP measures is included in the earnings release we issued this morning.",
    "With that, I'll turn the call over to Tom.",
    'Thomas Whitfield -- President, Chief Executive Officer and Director',
    'Thanks, Maria, and good morning. 2019 was a year of steady execution for Granite. We earned $1.47 per share in the fourth quarter, and we grew our regulated rate base by 7.2% for the year.',
    'Our capital plan remains on track. We invested $1.1 billion in grid modernization and renewable generation during 2019, and we placed our second solar facility in service in December, two weeks ahead of schedule.',
    'On the regulatory front, we reached a constructive settlement in our electric rate case, and we expect a final order from the commission in the second quarter.',
    'Karen will now walk you through the financials.',
    'Karen Osei -- Chief Financial Officer',
    'Thank you, Tom. Operating revenue for the quarter was $1.12 billion, and net income was $143 million. Customer growth and new rates offset a mild December, and weather was roughly neutral for the year as a whole.',
    'Operations and maintenance expense rose 2.3%, in line with our guidance. We continue to expect it to grow at or below inflation over the plan period.',
    'For 2020, we are initiating earnings guidance of $5.85 to $6.05 per share. This assumes normal weather and the timely recovery of our capital investments.',
    'Our balance sheet is strong. We ended the year with $1.9 billion of available liquidity, and we have no significant debt maturities until 2022.',
    "With that, operator, we're ready for questions.",
    'Questions & Answers:',
    'Operator',
    '[Operator Instructions] Our first question comes from Jane Roe with Morgan Stanley. Please go ahead.',
    'Jane Roe -- Morgan Stanley -- Analyst',
    'Hi, good morning. Tom, can you talk about the timing of the rate case order and what it means for the 2020 guidance range?',
    'Thomas Whitfield -- President, Chief Executive Officer and Director',
    'Sure, Jane. The settlement is pending approval, and the guidance range assumes new rates take effect on July 1. If the order slips by a quarter, we would expect to land in the lower half of the range.',
    'Jane Roe -- Morgan Stanley -- Analyst',
    "That's helpful. And on the solar pipeline, how much of this year's capital plan is already contracted?",
    'Karen Osei -- Chief Financial Officer',
    "About 80% of this year's renewable spend is under contract, and the remainder is mostly interconnection work.",
    'Operator',
    'Our next question comes from David Chen with Wells Fargo.',
    'Luis Moreno -- Goldman Sachs -- Analyst',
    "Hi, it's actually Luis Moreno at Goldman, I think the queue got crossed. Karen, how should we think about equity needs over the plan?",
    'Karen Osei -- Chief Financial Officer',
    "We don't see a need for block equity through 2022. We will keep using our dividend reinvestment plan for about $50 million a year.",
    'We have a question from the webcast as well, from a retail shareholder asking whether the dividend growth rate will change. Our target remains 5% to 6% annual dividend growth, in line with earnings.',
    'Operator',
    'Our next question comes from Rachel Kim with KeyBanc Capital Markets.',
    'Rachel Kim -- KeyBanc Capital Markets -- Analyst',
    'Good morning. Can you give us an update on the wildfire mitigation plan and how the costs will be recovered?',
    'Thomas Whitfield -- President, Chief Executive Officer and Director',
    "Our mitigation plan was filed in November. We expect the costs to be recovered through a rider, and we'll share more detail at our investor day in March.",
    'Operator',
    "There are no further questions at this time. I'd like to turn the conference back over to Thomas Whitfield for closing remarks.",
    'Thomas Whitfield -- President, Chief Executive Officer and Director',
    'Thank you all for joining us today. We look forward to seeing many of you at our investor day.',
    'Operator',
    "The conference has now concluded. Thank you for attending today's presentation. You may now disconnect.",
    'Duration: 58 minutes',
    'Call participants:',
    'Maria Lopez -- Vice President, Investor Relations',
    'Thomas Whitfield -- President, Chief Executive Officer and Director',
    'Karen Osei -- Chief Financial Officer',
    'Jane Roe -- Morgan Stanley -- Analyst',
    'Luis Moreno -- Goldman Sachs -- Analyst',
    'Rachel Kim -- KeyBanc Capital Markets -- Analyst',
  ].join('\n\n'),
  turns: [
    { section: 'prepared', turn: 0, ...OPERATOR },
    { section: 'prepared', turn: 1, ...GRNT_IR },
    { section: 'prepared', turn: 2, ...GRNT_CEO },
    { section: 'prepared', turn: 3, ...GRNT_CFO },
    { section: 'qa', turn: 4, ...OPERATOR },
    { section: 'qa', turn: 5, ...GRNT_ROE },
    { section: 'qa', turn: 6, ...GRNT_CEO },
    { section: 'qa', turn: 7, ...GRNT_ROE },
    { section: 'qa', turn: 8, ...GRNT_CFO },
    { section: 'qa', turn: 9, ...OPERATOR },
    // The operator announced David Chen (Wells Fargo); the speaker line says Luis Moreno (Goldman Sachs).
    { section: 'qa', turn: 10, ...GRNT_MORENO },
    { section: 'qa', turn: 11, ...GRNT_CFO },
    { section: 'qa', turn: 12, ...OPERATOR },
    { section: 'qa', turn: 13, ...GRNT_KIM },
    { section: 'qa', turn: 14, ...GRNT_CEO },
    { section: 'qa', turn: 15, ...OPERATOR },
    { section: 'qa', turn: 16, ...GRNT_CEO },
    { section: 'qa', turn: 17, ...OPERATOR },
  ],
  expectedTexts: [
    {
      turn: 1,
      text:
        'Thank you, and good morning, everyone. With me today are Thomas Whitfield, our President and Chief Executive Officer, and Karen Osei, our Chief Financial Officer.\n' +
        "Before we begin, let me remind you that today's remarks include forward-looking statements. Actual results may differ materially, and we undertake no obligation to update these statements. A reconciliation of non-GAAP measures is included in the earnings release we issued this morning.\n" +
        "With that, I'll turn the call over to Tom.",
    },
    {
      turn: 4,
      text: '[Operator Instructions] Our first question comes from Jane Roe with Morgan Stanley. Please go ahead.',
    },
    {
      turn: 11,
      text:
        "We don't see a need for block equity through 2022. We will keep using our dividend reinvestment plan for about $50 million a year.\n" +
        'We have a question from the webcast as well, from a retail shareholder asking whether the dividend growth rate will change. Our target remains 5% to 6% annual dividend growth, in line with earnings.',
    },
    {
      turn: 17,
      text: "The conference has now concluded. Thank you for attending today's presentation. You may now disconnect.",
    },
  ],
};

// ---------------------------------------------------------------------------------------
// Seeking Alpha layout: Acme Robotics (S00003), Q3 2020, after the close on its report day.

const ACME_IR = { speaker: 'Dana Whitaker', role: 'executive', title: 'Director, Investor Relations', firm: null } as const;
const ACME_CEO = { speaker: 'Miguel Alvarez', role: 'executive', title: 'Chairman, President and Chief Executive Officer', firm: null } as const;
const ACME_CFO = { speaker: 'Priya Raman', role: 'executive', title: 'Chief Financial Officer', firm: null } as const;
const ACME_BROOKS = { speaker: 'Ethan Brooks', role: 'analyst', title: null, firm: 'JPMorgan' } as const;
const ACME_PATEL = { speaker: 'Ravi Patel', role: 'analyst', title: null, firm: 'Goldman Sachs' } as const;
const ACME_LINDQVIST = { speaker: 'Sofia Lindqvist', role: 'analyst', title: null, firm: 'Needham & Company' } as const;
const UNIDENTIFIED_ANALYST = { speaker: 'Unidentified Analyst', role: 'analyst', title: null, firm: null } as const;

const SA: SampleCall = {
  case: 'sa',
  layout: 'sa',
  transcriptId: 'S00003-2020-11-09',
  sid: 'S00003',
  callStart: '2020-11-09T17:00:00-05:00',
  publishedAt: '2020-11-10T08:14:00-05:00',
  text: [
    'Acme Robotics Inc. (ACME) Q3 2020 Earnings Conference Call November 9, 2020 5:00 PM ET',
    '',
    'Company Participants',
    '',
    'Dana Whitaker - Director, Investor Relations',
    'Miguel Alvarez - Chairman, President and Chief Executive Officer',
    'Priya Raman - Chief Financial Officer',
    '',
    'Conference Call Participants',
    '',
    'Jane Roe - Morgan Stanley',
    'Ravi Patel - Goldman Sachs',
    'Ethan Brooks - JPMorgan',
    'Sofia Lindqvist - Needham & Company',
    '',
    'Operator',
    '',
    "Good afternoon, and welcome to the Acme Robotics Third Quarter 2020 Earnings Conference Call. At this time, all participants are in a listen-only mode. [Operator Instructions] As a reminder, this call is being recorded. I would now like to introduce your host for today's call, Dana Whitaker, Director of Investor Relations. You may begin.",
    '',
    'Dana Whitaker',
    '',
    'Thank you, operator. Good afternoon, and welcome. Joining me today are Miguel Alvarez, our Chairman, President and CEO, and Priya Raman, our CFO.',
    'Our remarks today contain forward-looking statements that are subject to risks and uncertainties described in our filings with the SEC. We will also refer to non-GAAP financial measures, which are reconciled in our press release.',
    '',
    'Miguel Alvarez',
    '',
    'Thank you, Dana, and good afternoon, everyone. Third quarter revenue was $587 million, a slight improvement on the second quarter, as warehouse automation orders recovered faster than we expected.',
    'Bookings grew for the second quarter in a row. E-commerce and grocery customers drove most of the demand, and our backlog now stands at a record level.',
    'We also launched our next-generation picking arm in September. Early customer feedback has been very positive, and we have already shipped the first units to three pilot sites.',
    '',
    'Priya Raman',
    '',
    'Thanks, Miguel. Net income for the quarter was $60.1 million, or $0.47 per share, up from $0.36 in the second quarter. Gross margin improved by 140 basis points on better factory utilization.',
    'Operating cash flow was strong, and we ended the quarter with $1.2 billion in cash and investments and no debt.',
    'For the fourth quarter, we expect revenue between $600 million and $630 million.',
    '',
    'Operator',
    '',
    'Thank you. We will now begin the question-and-answer session.',
    '',
    'Question-and-Answer Session',
    '',
    '[Operator Instructions] Our first question comes from Ethan Brooks with JPMorgan. Your line is open.',
    '',
    'Ethan Brooks',
    '',
    'Great, thanks for taking my question. Miguel, how much of the bookings strength was pulled forward by the pandemic, and how much do you think is durable?',
    '',
    'Miguel Alvarez',
    '',
    'Good question, Ethan. We think most of it is durable. Labor availability in warehouses was a problem before the pandemic, and customers are now committing to multiyear rollouts rather than single sites.',
    '',
    'Operator',
    '',
    'Our next question comes from Jane Roe with Morgan Stanley. Your line is open.',
    '',
    'Ravi Patel',
    '',
    'Hi, this is Ravi Patel from Goldman Sachs, I think the queue got mixed up. Priya, can you help us with the gross margin trajectory into next year?',
    '',
    'Priya Raman',
    '',
    'Sure, Ravi. We expect some of the utilization benefit to persist, but the new picking arm carries launch costs in the first half, so we would model margins roughly flat for the next two quarters.',
    '',
    'Operator',
    '',
    'Our next question comes from an analyst whose name we did not catch. Please go ahead.',
    '',
    'Unidentified Analyst',
    '',
    'Hi, thanks. On the service business, how much of the growth came from new installations versus renewals?',
    '',
    'Miguel Alvarez',
    '',
    'Roughly two thirds came from new installations. Renewal rates stayed above 95%, which is consistent with prior years.',
    '',
    'Operator',
    '',
    'Our final question comes from Sofia Lindqvist with Needham & Company.',
    '',
    'Sofia Lindqvist',
    '',
    'Thanks. Priya, what should we assume for operating expenses in the fourth quarter?',
    '',
    'Priya Raman',
    '',
    'We expect operating expenses to grow in the mid-single digits sequentially, mostly research and development for the picking arm.',
    '',
    'Operator',
    '',
    "Thank you. This concludes today's conference call. You may now disconnect.",
  ].join('\n'),
  turns: [
    { section: 'prepared', turn: 0, ...NO_SPEAKER },
    { section: 'prepared', turn: 1, ...OPERATOR },
    { section: 'prepared', turn: 2, ...ACME_IR },
    { section: 'prepared', turn: 3, ...ACME_CEO },
    { section: 'prepared', turn: 4, ...ACME_CFO },
    { section: 'prepared', turn: 5, ...OPERATOR },
    // No speaker line after the header: the operator goes on, in a new turn of the new section.
    { section: 'qa', turn: 6, ...OPERATOR },
    { section: 'qa', turn: 7, ...ACME_BROOKS },
    { section: 'qa', turn: 8, ...ACME_CEO },
    { section: 'qa', turn: 9, ...OPERATOR },
    // Jane Roe (Morgan Stanley) was announced; the speaker line says Ravi Patel.
    { section: 'qa', turn: 10, ...ACME_PATEL },
    { section: 'qa', turn: 11, ...ACME_CFO },
    { section: 'qa', turn: 12, ...OPERATOR },
    { section: 'qa', turn: 13, ...UNIDENTIFIED_ANALYST },
    { section: 'qa', turn: 14, ...ACME_CEO },
    { section: 'qa', turn: 15, ...OPERATOR },
    { section: 'qa', turn: 16, ...ACME_LINDQVIST },
    { section: 'qa', turn: 17, ...ACME_CFO },
    { section: 'qa', turn: 18, ...OPERATOR },
  ],
  expectedTexts: [
    { turn: 0, text: 'Acme Robotics Inc. (ACME) Q3 2020 Earnings Conference Call November 9, 2020 5:00 PM ET' },
    {
      turn: 2,
      text:
        'Thank you, operator. Good afternoon, and welcome. Joining me today are Miguel Alvarez, our Chairman, President and CEO, and Priya Raman, our CFO.\n' +
        'Our remarks today contain forward-looking statements that are subject to risks and uncertainties described in our filings with the SEC. We will also refer to non-GAAP financial measures, which are reconciled in our press release.',
    },
    { turn: 5, text: 'Thank you. We will now begin the question-and-answer session.' },
    { turn: 6, text: '[Operator Instructions] Our first question comes from Ethan Brooks with JPMorgan. Your line is open.' },
    {
      turn: 10,
      text: 'Hi, this is Ravi Patel from Goldman Sachs, I think the queue got mixed up. Priya, can you help us with the gross margin trajectory into next year?',
    },
    { turn: 13, text: 'Hi, thanks. On the service business, how much of the growth came from new installations versus renewals?' },
  ],
};

// ---------------------------------------------------------------------------------------
// No Q&A: Newco Brands (S00004) withdraws its guidance early in the 2020 lockdowns.

const NEWC_IR = { speaker: 'Helen Park', role: 'executive', title: 'Vice President, Investor Relations', firm: null } as const;
const NEWC_CEO = { speaker: 'Robert Lee Jr.', role: 'executive', title: 'Chairman and Chief Executive Officer', firm: null } as const;
const NEWC_CFO = { speaker: 'Anika Sharma', role: 'executive', title: 'Executive Vice President and Chief Financial Officer', firm: null } as const;
const UNIDENTIFIED_REPRESENTATIVE = { speaker: 'Unidentified Company Representative', role: 'unknown', title: null, firm: null } as const;

const PREPARED_ONLY: SampleCall = {
  case: 'preparedOnly',
  layout: 'sa',
  transcriptId: 'S00004-2020-03-19',
  sid: 'S00004',
  callStart: '2020-03-19T08:30:00-04:00',
  publishedAt: '2020-03-19T13:05:00-04:00',
  text: [
    'Newco Brands Inc. (NEWC) Business Update Call March 19, 2020 8:30 AM ET',
    '',
    'Corporate Participants',
    'Helen Park – Vice President, Investor Relations',
    'Robert Lee Jr. – Chairman and Chief Executive Officer',
    'Anika Sharma – Executive Vice President and Chief Financial Officer',
    '',
    'Presentation',
    '',
    'Operator',
    "Good morning, and welcome to the Newco Brands business update call. All participants are in a listen-only mode. There will be no question-and-answer session following today's remarks. I will now turn the call over to Helen Park.",
    '',
    'Helen Park',
    'Thank you, and good morning. We scheduled this call at short notice to update you on how the company is responding to the coronavirus outbreak.',
    'Our comments today include forward-looking statements, and actual results may differ materially. We will not be taking questions.',
    '',
    'Robert Lee Jr.',
    'Thank you, Helen. The health and safety of our employees and customers comes first. As of this week, all of our office staff work from home, and our plants run with staggered shifts and additional cleaning.',
    'Demand has shifted sharply. Orders from grocery and mass retail customers are running well above normal, while our foodservice business has almost stopped as restaurants close.',
    'Given how quickly conditions are changing, we are withdrawing the 2020 guidance we gave on March 3.',
    'Anika will cover our liquidity.',
    '',
    'Anika Sharma',
    'Thanks, Robert. As we reported on March 3, we posted a fourth quarter loss of $0.08 per share on revenue of $1.75 billion.',
    'Yesterday we drew $500 million on our revolving credit facility as a precaution. Together with cash on hand, that gives us more than $900 million of liquidity.',
    'We are also suspending share repurchases for the rest of the year.',
    '',
    'Robert Lee Jr.',
    'We will give a full update when we report first quarter results. Thank you for joining us on short notice.',
    '',
    'Unidentified Company Representative',
    'A replay of this call will be available on our investor relations website later today.',
    '',
    'Operator',
    'This concludes today\'s call. You may now disconnect.',
  ].join('\n'),
  turns: [
    { section: 'prepared', turn: 0, ...NO_SPEAKER },
    { section: 'prepared', turn: 1, ...OPERATOR },
    { section: 'prepared', turn: 2, ...NEWC_IR },
    { section: 'prepared', turn: 3, ...NEWC_CEO },
    { section: 'prepared', turn: 4, ...NEWC_CFO },
    { section: 'prepared', turn: 5, ...NEWC_CEO },
    { section: 'prepared', turn: 6, ...UNIDENTIFIED_REPRESENTATIVE },
    { section: 'prepared', turn: 7, ...OPERATOR },
  ],
  expectedTexts: [
    { turn: 0, text: 'Newco Brands Inc. (NEWC) Business Update Call March 19, 2020 8:30 AM ET' },
    {
      turn: 3,
      text:
        'Thank you, Helen. The health and safety of our employees and customers comes first. As of this week, all of our office staff work from home, and our plants run with staggered shifts and additional cleaning.\n' +
        'Demand has shifted sharply. Orders from grocery and mass retail customers are running well above normal, while our foodservice business has almost stopped as restaurants close.\n' +
        'Given how quickly conditions are changing, we are withdrawing the 2020 guidance we gave on March 3.\n' +
        'Anika will cover our liquidity.',
    },
    { turn: 6, text: 'A replay of this call will be available on our investor relations website later today.' },
  ],
};

/**
 * The hand-written calls, in the order they open transcripts.jsonl.
 *
 * @example
 *   for (const call of SAMPLE_CALLS) {
 *     const turns = splitTranscript(call.text);
 *     assert.equal(turns.map(({ section, turn, speaker, role, title, firm }) => ({ section, turn, speaker, role, title, firm })), call.turns);
 *     for (const e of call.expectedTexts) assert.is(turns[e.turn]!.text, e.text);
 *   }
 */
export const SAMPLE_CALLS: readonly SampleCall[] = [FOOL, SA, PREPARED_ONLY];
