"""Column headers of the Salesforce Data Export files and the Pardot prospect exports.

Data tables only: one header (a list of column names) per exported object, in the
column order the export writes.
"""

from __future__ import annotations

# Verbatim Data Export headers (crm_formats.md, org A); "..."-elided tails are
# completed with standard fields and a few custom fields.
H_OPPORTUNITY = (
    "Id,IsDeleted,AccountId,IsPrivate,Name,Description,StageName,StageSortOrder,Amount,Probability,"
    "ExpectedRevenue,TotalOpportunityQuantity,CloseDate,Type,NextStep,LeadSource,IsClosed,IsWon,"
    "ForecastCategory,ForecastCategoryName,CurrencyIsoCode,CampaignId,HasOpportunityLineItem,"
    "Pricebook2Id,OwnerId,Territory2Id,IsExcludedFromTerritory2Filter,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,LastStageChangeDate,FiscalYear,"
    "FiscalQuarter,ContactId,PrimaryPartnerAccountId,SyncedQuoteId,ContractId,"
    "LastAmountChangedHistoryId,LastCloseDateChangedHistoryId,Budget_Confirmed__c,"
    "Discovery_Completed__c,ROI_Analysis_Completed__c,BudgetConfirmed__c,Loss_Reason__c,Channel__c,"
    "ClosingPlan__c,DiscoveryCompleted__c,ForecastComments__c,LossReason__c,Opportunity_rating__c,"
    "Partner__c,ROIAnalysisCompleted__c"
).split(",")
H_HISTORY = (
    "Id,OpportunityId,CreatedById,CreatedDate,CreatedDateForInsert,StageName,Amount,ExpectedRevenue,"
    "CloseDate,Probability,FromForecastCategory,ForecastCategory,PrevForecastUpdate,"
    "FromOpportunityStageName,PrevOpportunityStageUpdate,CurrencyIsoCode,ValidThroughDate,"
    "SystemModstamp,IsDeleted,PrevAmount,PrevCloseDate"
).split(",")
H_ACCOUNT = (
    "Id,IsDeleted,MasterRecordId,Name,Type,RecordTypeId,ParentId,BillingStreet,BillingCity,"
    "BillingState,BillingPostalCode,BillingCountry,BillingStateCode,BillingCountryCode,"
    "BillingLatitude,BillingLongitude,BillingGeocodeAccuracy,ShippingStreet,ShippingCity,"
    "ShippingState,ShippingPostalCode,ShippingCountry,ShippingStateCode,ShippingCountryCode,"
    "ShippingLatitude,ShippingLongitude,ShippingGeocodeAccuracy,Phone,Fax,AccountNumber,Website,Sic,"
    "Industry,AnnualRevenue,NumberOfEmployees,Ownership,TickerSymbol,Description,Rating,Site,"
    "CurrencyIsoCode,OwnerId,CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,"
    "SystemModstamp,LastActivityDate,IsExcludedFromRealign,Jigsaw,JigsawCompanyId,AccountSource,"
    "SicDesc,OperatingHoursId,Kundennummer__c,Segment__c"
).split(",")
H_LEAD = (
    "Id,IsDeleted,MasterRecordId,Salutation,FirstName,LastName,MiddleName,Suffix,RecordTypeId,Title,"
    "Company,Street,City,State,PostalCode,Country,StateCode,CountryCode,Latitude,Longitude,"
    "GeocodeAccuracy,Phone,MobilePhone,Fax,Email,Website,Description,LeadSource,Status,Industry,"
    "Rating,CurrencyIsoCode,AnnualRevenue,NumberOfEmployees,OwnerId,HasOptedOutOfEmail,IsConverted,"
    "ConvertedDate,ConvertedAccountId,ConvertedContactId,ConvertedOpportunityId,IsUnreadByOwner,"
    "CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,"
    "DoNotCall,HasOptedOutOfFax,LastTransferDate,Jigsaw,JigsawContactId,EmailBouncedReason,"
    "EmailBouncedDate,Pronouns,GenderIdentity,Produktinteresse__c"
).split(",")
H_CONTACT = (
    "Id,IsDeleted,MasterRecordId,AccountId,Salutation,FirstName,LastName,MiddleName,Suffix,"
    "RecordTypeId,OtherStreet,OtherCity,OtherState,OtherPostalCode,OtherCountry,OtherStateCode,"
    "OtherCountryCode,OtherLatitude,OtherLongitude,OtherGeocodeAccuracy,MailingStreet,MailingCity,"
    "MailingState,MailingPostalCode,MailingCountry,MailingStateCode,MailingCountryCode,"
    "MailingLatitude,MailingLongitude,MailingGeocodeAccuracy,Phone,Fax,MobilePhone,HomePhone,"
    "OtherPhone,AssistantPhone,ReportsToId,Email,Title,Department,AssistantName,LeadSource,"
    "Birthdate,Description,CurrencyIsoCode,OwnerId,HasOptedOutOfEmail,HasOptedOutOfFax,DoNotCall,"
    "CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate"
).split(",")
H_CAMPAIGN = (
    "Id,IsDeleted,Name,ParentId,Type,Status,StartDate,EndDate,CurrencyIsoCode,ExpectedRevenue,"
    "BudgetedCost,ActualCost,ExpectedResponse,NumberSent,IsActive,Description,NumberOfLeads,"
    "NumberOfConvertedLeads,NumberOfContacts,NumberOfResponses,NumberOfOpportunities,"
    "NumberOfWonOpportunities,AmountAllOpportunities,AmountWonOpportunities,HierarchyNumberOfLeads,"
    "HierarchyNumberOfConvertedLeads,HierarchyNumberOfContacts,HierarchyNumberOfResponses,"
    "HierarchyNumberOfOpportunities,HierarchyNumberOfWonOpportunities,"
    "HierarchyAmountAllOpportunities,HierarchyAmountWonOpportunities,HierarchyNumberSent,"
    "HierarchyExpectedRevenue,HierarchyBudgetedCost,HierarchyActualCost,OwnerId,CreatedDate,"
    "CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,"
    "CampaignMemberRecordTypeId"
).split(",")
H_CAMPAIGN_MEMBER = (
    "Id,IsDeleted,CampaignId,LeadId,ContactId,Status,HasResponded,IsPrimary,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,FirstRespondedDate,CurrencyIsoCode"
).split(",")
H_STAGE = (
    "Id,MasterLabel,ApiName,IsActive,SortOrder,IsClosed,IsWon,ForecastCategory,ForecastCategoryName,"
    "DefaultProbability,Description,CreatedById,CreatedDate,LastModifiedById,LastModifiedDate,"
    "SystemModstamp"
).split(",")
H_CURRENCY = (
    "Id,IsoCode,ConversionRate,DecimalPlaces,IsActive,IsCorporate,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp"
).split(",")
H_DATED_RATE = (
    "Id,IsoCode,StartDate,NextStartDate,ConversionRate,CreatedDate,CreatedById,LastModifiedDate,"
    "LastModifiedById,SystemModstamp"
).split(",")
H_USER = (
    "Id,Username,FirstName,LastName,MiddleName,Suffix,CompanyName,Division,Department,Title,Street,"
    "City,State,PostalCode,Country,StateCode,CountryCode,Latitude,Longitude,GeocodeAccuracy,Email,"
    "SenderEmail,SenderName,Signature,StayInTouchSubject,StayInTouchSignature,StayInTouchNote,Phone,"
    "Fax,MobilePhone,Alias,CommunityNickname,IsActive,IsSystemControlled,TimeZoneSidKey,UserRoleId,"
    "LocaleSidKey,ReceivesInfoEmails,ReceivesAdminInfoEmails,EmailEncodingKey,DefaultCurrencyIsoCode,"
    "CurrencyIsoCode,ProfileId,UserType,UserSubtype,StartDay,EndDay,LanguageLocaleKey,EmployeeNumber,"
    "DelegatedApproverId,ManagerId,LastLoginDate,LastPasswordChangeDate,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,NumberOfFailedLogins,SuAccessExpirationDate,"
    "SuOrgAdminExpirationDate,OfflineTrialExpirationDate,WirelessTrialExpirationDate,"
    "OfflinePdaTrialExpirationDate,ForecastEnabled,ContactId,AccountId,CallCenterId,Extension,"
    "FederationIdentifier,AboutMe,LoginLimit,ProfilePhotoId,DigestFrequency,"
    "DefaultGroupNotificationFrequency,WorkspaceId,SharingType,ChatterAdoptionStage,"
    "ChatterAdoptionStageModifiedDate,BannerPhotoId,IsProfilePhotoActive,GlobalIdentity"
).split(",")
H_USER_ROLE = (
    "Id,Name,ParentRoleId,RollupDescription,OpportunityAccessForAccountOwner,"
    "CaseAccessForAccountOwner,ContactAccessForAccountOwner,ForecastUserId,MayForecastManagerShare,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,PortalAccountId,PortalType,PortalRole,"
    "PortalAccountOwnerId"
).split(",")
# Pardot export API (v3/v4 prospect fields; the export leaves out grade and notes).
H_PARDOT_API = (
    "id,campaign_id,salutation,first_name,last_name,email,company,prospect_account_id,website,"
    "job_title,department,country,address_one,address_two,city,state,territory,zip,phone,fax,source,"
    "annual_revenue,employees,industry,years_in_business,comments,score,last_activity_at,"
    "recent_interaction,crm_lead_fid,crm_contact_fid,crm_owner_fid,crm_account_fid,crm_last_sync,"
    "crm_url,is_do_not_email,is_do_not_call,opted_out,is_reviewed,is_starred,created_at,updated_at"
).split(",")
# Pardot UI prospect export (verbatim label header).
H_PARDOT_UI = (
    "Prospect Id,First Name,Last Name,Email,Company,Last Activity Date,Campaign,Score,Grade,"
    "Job Title,Department,Country,City,Source,Industry,Do Not Email,Created Date,Owner,"
    "Lifecycle Stage,Created by Marketing"
).split(",")
